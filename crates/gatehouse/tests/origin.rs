//! Custom origins over real sockets (placeholder while the suite is written).

mod support;
use support::*;

#[test]
fn placeholder() {
    let _ = bin();
}
