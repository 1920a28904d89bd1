//! Pipelines: layering, each layer inside a pipeline, metrics, and agreement with the policies nested by hand.

mod basics;
mod layers;
mod metrics;
mod model;
