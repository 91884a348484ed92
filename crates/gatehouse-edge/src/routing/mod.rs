//! The routing phase: Host → distribution ([`host`]), path → cache behaviour ([`behavior`]).

pub mod behavior;
pub mod host;
