//! One module per subcommand.

pub mod breakers;
pub mod health;
pub mod queue;
pub mod report;
pub mod status;
