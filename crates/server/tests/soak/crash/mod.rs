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

mod plan;
mod verify;

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::enqueuer::{Enqueuer, EnqueuerSaid};
use crate::ledger::Ledger;
use crate::poster::{Poster, PosterSaid};
use crate::support::{Delivery, Serve, ServeSaid, Store, receiver};
use plan::{Plan, Trigger};

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
}

fn soak(store: Store, backend: &str) {
    let plan = Plan::from_env();
    println!("soak {backend}: seed {} (ELF_SOAK_SEED replays the kill points)", plan.seed);
    let started = Instant::now();
    let (mut soak, events) = Soak::new(store, plan);
    soak.run(&events);
    let settled = soak.verify();
    println!("{}", soak.summary(backend, settled, started.elapsed()));
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
