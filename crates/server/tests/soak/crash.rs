//! The crash soak: an enqueuer process (the library) and `POST /api/queue` of `serve` itself
//! (the binary) fill the queue, half each, while `serve` replays it to a loopback receiver;
//! `serve` is killed with SIGKILL at points chosen by counts (of deliveries seen, of enqueues
//! done, of posts in flight) plus seeded random offsets, the enqueuer a few times too, and
//! each is started again, until everything is delivered. Then: nothing lost (every enqueue the
//! library committed or `serve` answered 201 delivered and `done`; one whose answer a kill
//! cut off at most delivered, never twice in the queue), nothing damaged, and no more
//! duplicate deliveries than kills.
//!
//! `ELF_SOAK_REQUESTS` (default 500), `ELF_SOAK_KILLS` (default 50) and `ELF_SOAK_SEED` make it
//! longer or replay a run's kill points.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use elf_resilience::{RequestQueue, TicketStatus};

use crate::enqueuer::{Enqueuer, EnqueuerSaid};
use crate::ledger::{Ledger, Settled};
use crate::poster::{Poster, PosterSaid};
use crate::support::{Delivery, Serve, ServeSaid, Store, receiver};

/// How far the enqueuer may run ahead of the deliveries.
const WINDOW: u64 = 40;
/// How long a killed server's request stays leased.
const LEASE_FOR: &str = "2s";

/// What the soak hears, in one stream.
#[derive(Debug)]
enum Event {
    Delivered(Delivery),
    Serve(u32, ServeSaid),
    Enqueuer(u32, EnqueuerSaid),
    Poster(PosterSaid),
}

/// The run's size and its kill points' seed.
#[derive(Debug, Clone, Copy)]
struct Plan {
    requests: u64,
    kills: u32,
    enqueuer_kills: u32,
    seed: u64,
}

impl Plan {
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.parse::<u64>().expect(name));
        let requests = var("ELF_SOAK_REQUESTS").unwrap_or(500).max(10);
        let kills = u32::try_from(var("ELF_SOAK_KILLS").unwrap_or(50)).unwrap();
        let seed = var("ELF_SOAK_SEED").unwrap_or_else(|| fastrand::u64(..));
        Self { requests, kills, enqueuer_kills: (kills / 12).max(3), seed }
    }

    /// A generous bound on the whole run, for a hang to fail rather than wait forever.
    fn deadline(&self) -> Instant {
        Instant::now() + Duration::from_secs(120 + self.requests / 10 + u64::from(self.kills) * 2)
    }
}

/// When the running server is killed next.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// Once this many deliveries (duplicates included) were seen: while the last one is in
    /// flight, before its ack.
    Delivered(u64),
    /// Once this many deliveries were seen and the last one is acked: in the lease or the
    /// delivery after it.
    Acked(u64),
    /// Once this many enqueues were answered (by the library or over HTTP).
    Enqueued(u64),
    /// Once this many posts to `POST /api/queue` went out and the last one is unanswered.
    Posting(u64),
    /// At once: nothing is left to deliver.
    Now,
}

/// The soak's state, driven by [`Event`]s.
struct Soak {
    store: Store,
    plan: Plan,
    rng: fastrand::Rng,
    tx: Sender<Event>,
    config: std::path::PathBuf,
    logs: tempfile::TempDir,
    serve: Option<Serve>,
    serve_gen: u32,
    trigger: Option<Trigger>,
    serve_kills: u32,
    kills_by_point: [u32; 5],
    last_key: String,
    enqueuer: Option<Enqueuer>,
    enqueuer_gen: u32,
    enqueuer_targets: Vec<u64>,
    enqueuer_kills: u32,
    library_finished: bool,
    poster: Option<Poster>,
    posts: u64,
    in_flight: bool,
    posting_finished: bool,
    ledger: Ledger,
    enqueued: u64,
    granted: u64,
    seen: HashMap<String, u32>,
    payloads: HashMap<String, u64>,
    delivered_ns: HashSet<u64>,
    deliveries: u64,
}

impl Soak {
    fn new(store: Store, plan: Plan) -> (Self, Receiver<Event>) {
        let (tx, rx) = mpsc::channel();
        let handler = receiver(tx.clone(), Event::Delivered);
        let config = store.write_config(handler, LEASE_FOR);
        let mut rng = fastrand::Rng::with_seed(plan.seed);
        let span = plan.requests / u64::from(plan.enqueuer_kills + 1);
        let enqueuer_targets =
            (1..=u64::from(plan.enqueuer_kills)).map(|j| j * span + rng.u64(0..span / 2)).collect();
        let soak = Self {
            store,
            plan,
            rng,
            tx,
            config,
            logs: tempfile::tempdir().unwrap(),
            serve: None,
            serve_gen: 0,
            trigger: None,
            serve_kills: 0,
            kills_by_point: [0; 5],
            last_key: String::new(),
            enqueuer: None,
            enqueuer_gen: 0,
            enqueuer_targets,
            enqueuer_kills: 0,
            library_finished: false,
            poster: None,
            posts: 0,
            in_flight: false,
            posting_finished: false,
            ledger: Ledger::new(plan.requests),
            enqueued: 0,
            granted: 0,
            seen: HashMap::new(),
            payloads: HashMap::new(),
            delivered_ns: HashSet::new(),
            deliveries: 0,
        };
        (soak, rx)
    }

    fn start_serve(&mut self) {
        self.serve_gen += 1;
        let (generation, log) =
            (self.serve_gen, self.logs.path().join(format!("serve-{}.log", self.serve_gen)));
        let wrap = move |said| Event::Serve(generation, said);
        self.serve = Some(Serve::start(&self.config, &[], log, self.tx.clone(), wrap));
        self.trigger = None;
    }

    fn start_enqueuer(&mut self) {
        self.enqueuer_gen += 1;
        let generation = self.enqueuer_gen;
        let wrap = move |said| Event::Enqueuer(generation, said);
        self.enqueuer = Some(Enqueuer::start(&self.store.spec(), self.plan.requests, self.tx.clone(), wrap));
    }

    /// Posts go to the server that just started listening at `addr`; the first one starts the
    /// poster with the token `serve` generated in the data directory.
    fn serve_listening(&mut self, addr: std::net::SocketAddr) {
        if self.poster.is_none() {
            let token = std::fs::read_to_string(self.store.dir().join("token")).unwrap();
            let poster =
                Poster::start(token.trim().to_owned(), self.plan.requests, self.tx.clone(), Event::Poster);
            poster.grant(self.first_grant());
            self.poster = Some(poster);
        }
        self.poster.as_ref().unwrap().serve_at(addr);
        self.arm();
    }

    fn unique(&self) -> u64 {
        self.seen.len() as u64
    }

    /// Deliveries seen plus enqueues given up as ambiguous: what the enqueues may run ahead of.
    fn settled(&self) -> u64 {
        self.unique() + self.ledger.ambiguous_count()
    }

    fn on(&mut self, event: Event) {
        match event {
            Event::Delivered(d) => self.delivered(d),
            Event::Serve(g, ServeSaid::Listening(addr)) if g == self.serve_gen => self.serve_listening(addr),
            Event::Serve(g, ServeSaid::Exited) if g == self.serve_gen => {
                let log = self.serve.as_ref().map(|s| Serve::log_tail(&s.log)).unwrap_or_default();
                panic!("serve #{g} exited without being killed:\n{log}");
            }
            Event::Serve(..) => {}
            Event::Enqueuer(g, said) => self.enqueuer_said(g, said),
            Event::Poster(said) => self.poster_said(said),
        }
    }

    fn delivered(&mut self, d: Delivery) {
        self.deliveries += 1;
        self.last_key.clone_from(&d.key);
        *self.seen.entry(d.key.clone()).or_default() += 1;
        self.delivered_ns.insert(d.n);
        let before = self.payloads.insert(d.key.clone(), d.n);
        assert!(
            before.is_none_or(|n| n == d.n),
            "{} was delivered with payloads {before:?} and {}",
            d.key,
            d.n
        );
        self.regrant();
    }

    fn regrant(&mut self) {
        let grant = (self.settled() + WINDOW).min(self.plan.requests);
        if grant > self.granted {
            self.granted = grant;
            if let Some(e) = &mut self.enqueuer {
                e.grant(grant);
            }
            if let Some(p) = &self.poster {
                p.grant(grant);
            }
        }
    }

    /// What a fresh enqueuer may enqueue before any delivery.
    fn first_grant(&mut self) -> u64 {
        self.granted = self.granted.max(WINDOW.min(self.plan.requests));
        self.granted
    }

    fn enqueuer_said(&mut self, generation: u32, said: EnqueuerSaid) {
        match said {
            EnqueuerSaid::Resumed(at) => {
                if self.ledger.library_resumed(at) {
                    self.enqueued += 1;
                }
                let grant = self.first_grant();
                self.enqueuer.as_mut().unwrap().grant(grant);
            }
            EnqueuerSaid::Enqueued(n) => {
                self.ledger.library_enqueued(n);
                self.enqueued += 1;
                if generation == self.enqueuer_gen {
                    self.maybe_kill_enqueuer();
                }
            }
            EnqueuerSaid::Finished => self.library_finished = true,
        }
    }

    fn poster_said(&mut self, said: PosterSaid) {
        self.in_flight = matches!(said, PosterSaid::Posting);
        let answered = matches!(said, PosterSaid::Created(..) | PosterSaid::Ambiguous(_));
        match said {
            PosterSaid::Posting => self.posts += 1,
            PosterSaid::Created(n, ticket) => self.ledger.created(n, ticket),
            PosterSaid::Ambiguous(n) => self.ledger.ambiguous(n),
            PosterSaid::Finished => self.posting_finished = true,
            PosterSaid::Failed(why) => {
                let log = self.serve.as_ref().map(|s| Serve::log_tail(&s.log)).unwrap_or_default();
                panic!("{why}\nserve #{}:\n{log}", self.serve_gen);
            }
        }
        if answered {
            self.enqueued += 1;
            self.regrant();
        }
    }

    fn maybe_kill_enqueuer(&mut self) {
        if self.enqueuer_targets.first().is_none_or(|&t| self.ledger.library_next() < t) {
            return;
        }
        self.enqueuer_targets.remove(0);
        let mut enqueuer = self.enqueuer.take().unwrap();
        if enqueuer.running() {
            self.enqueuer_kills += 1;
        }
        enqueuer.kill();
        self.start_enqueuer();
    }

    /// Picks where the fresh server dies: after a few more enqueues or while a post is in
    /// flight (while those go on), or after a few more deliveries, before or after the last
    /// one's ack; at once when all are in.
    fn arm(&mut self) {
        if self.serve_kills >= self.plan.kills {
            return;
        }
        let spacing = (self.plan.requests / u64::from(self.plan.kills.max(1))).max(1);
        // At most the distinct deliveries still to come: an ambiguous enqueue may never come.
        let left = self.plan.requests.saturating_sub(self.settled());
        let enqueuing = self.enqueued + 8 < self.plan.requests;
        let posts_left = (self.plan.requests / 2)
            .saturating_sub(self.ledger.created_count() + self.ledger.ambiguous_count());
        let posting = !self.posting_finished && posts_left > 5;
        let after = |rng: &mut fastrand::Rng| self.deliveries + rng.u64(1..=(2 * spacing - 1).min(left));
        self.trigger = Some(match self.rng.u8(0..4) {
            0 if enqueuing => Trigger::Enqueued(self.enqueued + self.rng.u64(1..=8)),
            3 if posting => Trigger::Posting(self.posts + self.rng.u64(1..=4)),
            _ if left == 0 => Trigger::Now,
            1 => Trigger::Acked(after(&mut self.rng)),
            _ => Trigger::Delivered(after(&mut self.rng)),
        });
    }

    fn maybe_kill_serve(&mut self, queue: &dyn RequestQueue) {
        let (due, point) = match self.trigger {
            Some(Trigger::Delivered(n)) => (self.deliveries >= n, 0),
            Some(Trigger::Acked(n)) => (self.deliveries >= n && self.until_acked(queue), 1),
            Some(Trigger::Enqueued(n)) => (self.enqueued >= n, 2),
            Some(Trigger::Posting(n)) => (self.in_flight && self.posts >= n, 3),
            Some(Trigger::Now) => (true, 4),
            None => (false, 0),
        };
        if due {
            self.serve.take().unwrap().kill();
            self.serve_kills += 1;
            self.kills_by_point[point] += 1;
            self.start_serve();
        }
    }

    /// Waits (a bounded spin: the ack follows the handler's answer at once) until the last
    /// delivery is acked; `true` once it is.
    fn until_acked(&self, queue: &dyn RequestQueue) -> bool {
        let ticket = elf_resilience::Ticket(self.last_key.clone());
        let give_up = Instant::now() + Duration::from_secs(10);
        while queue.status(&ticket).unwrap() != Some(TicketStatus::Done) {
            assert!(Instant::now() < give_up, "{ticket} was delivered but not acked within 10 s");
            std::thread::yield_now();
        }
        true
    }

    /// Every enqueue is in, every request the queue holds delivered and done, and every kill
    /// was made.
    fn finished(&self, queue: &dyn RequestQueue) -> bool {
        self.serve_kills >= self.plan.kills
            && self.library_finished
            && self.posting_finished
            && self.ledger.committed_delivered(|n| self.delivered_ns.contains(&n))
            && queue
                .list(None, usize::MAX)
                .unwrap()
                .iter()
                .all(|r| r.status == TicketStatus::Done && self.seen.contains_key(&r.ticket.0))
    }

    fn run(&mut self, events: &Receiver<Event>) {
        let deadline = self.plan.deadline();
        self.start_serve();
        self.start_enqueuer();
        let queue = self.store.queue();
        while !self.finished(&*queue) {
            assert!(Instant::now() < deadline, "the soak did not finish in time: {}", self.progress());
            match events.recv_timeout(Duration::from_millis(100)) {
                Ok(event) => self.on(event),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => unreachable!("the soak holds a sender"),
            }
            self.maybe_kill_serve(&*queue);
        }
        let status = self.serve.take().unwrap().terminate();
        assert!(status.success(), "serve stops cleanly on SIGTERM: {status:?}");
        self.enqueuer.take().unwrap().kill();
        self.poster.take().unwrap().stop();
    }

    fn progress(&self) -> String {
        format!(
            "{} enqueues answered ({} ambiguous), {} of {} delivered ({} deliveries), {} serve kills, \
             {} enqueuer kills",
            self.enqueued,
            self.ledger.ambiguous_count(),
            self.unique(),
            self.plan.requests,
            self.deliveries,
            self.serve_kills,
            self.enqueuer_kills
        )
    }

    /// Nothing lost, nothing damaged, duplicates within the kills; what the queue made of the
    /// ambiguous enqueues.
    fn verify(&self) -> Settled {
        let all = self.store.queue().list(None, usize::MAX).unwrap();
        let settled = self.ledger.check(&all).unwrap_or_else(|wrong| panic!("{wrong}"));
        for r in &all {
            assert_eq!(r.status, TicketStatus::Done, "{} is not done: {r:?}", r.ticket);
            assert_eq!(
                self.payloads.get(&r.ticket.0),
                r.payload["n"].as_u64().as_ref(),
                "{} delivered",
                r.ticket
            );
        }
        self.store.assert_undamaged();
        let duplicates = self.deliveries - self.unique();
        assert!(
            duplicates <= u64::from(self.serve_kills),
            "{duplicates} duplicate deliveries for {} kills of serve",
            self.serve_kills
        );
        let ambiguous = self.ledger.ambiguous_count();
        assert!(
            ambiguous <= u64::from(self.serve_kills),
            "{ambiguous} posts lost their answer to {} kills of serve: a kill cuts at most the one in flight",
            self.serve_kills
        );
        settled
    }
}

fn soak(store: Store, backend: &str) {
    let plan = Plan::from_env();
    println!("soak {backend}: seed {} (ELF_SOAK_SEED replays the kill points)", plan.seed);
    let started = Instant::now();
    let (mut soak, events) = Soak::new(store, plan);
    soak.run(&events);
    let settled = soak.verify();
    let [delivery, ack, enqueues, post, idle] = soak.kills_by_point;
    println!(
        "soak {backend}: requests {}, over HTTP answered 201 {}, ambiguous {} (committed {}, absent {}), \
         serve kills {} (in a delivery {delivery}, after an ack {ack}, during enqueues {enqueues}, \
         mid-POST {post}, idle {idle}), enqueuer kills {}, deliveries {}, duplicates {}, lost 0, damaged 0, \
         {:.1} s",
        plan.requests,
        soak.ledger.created_count(),
        soak.ledger.ambiguous_count(),
        settled.committed,
        settled.absent,
        soak.serve_kills,
        soak.enqueuer_kills,
        soak.deliveries,
        soak.deliveries - soak.unique(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn killed_again_and_again_serve_loses_nothing_with_sqlite() {
    soak(Store::sqlite(), "sqlite");
}

#[test]
fn killed_again_and_again_serve_loses_nothing_with_redis() {
    let Some(store) = Store::redis() else { return };
    soak(store, "redis");
}
