//! `AllowedMethods` (`cloudfront.md` §1.2, §7.3): a method outside the behaviour's set is
//! refused with 403 and the "…supports only cachable requests." page.

use super::CheckInput;
use crate::response::Denial;
use gatehouse_model::Cause;

/// Runs the check.
pub fn check(i: &CheckInput<'_>) -> Option<Denial> {
    if i.behavior.allowed_methods.contains(i.method) {
        return None;
    }
    Some(Denial::new(
        Cause::MethodNotAllowed,
        format!(
            "method {} is not in AllowedMethods [{}] of behavior {}",
            i.method,
            i.behavior.allowed_methods,
            i.behavior.name()
        ),
    ))
}
