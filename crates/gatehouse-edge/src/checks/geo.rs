//! `Restrictions.GeoRestriction` (`cloudfront.md` §4): the whole distribution, on the viewer's
//! country from the GeoIP database. A viewer whose country cannot be determined is served, as
//! CloudFront does. Refusal: 403 with the geo page, cause `geo-blocked`.

use super::CheckInput;
use crate::response::Denial;
use crate::state::GeoRule;
use gatehouse_model::Cause;

/// Runs the check.
pub fn check(i: &CheckInput<'_>) -> Option<Denial> {
    let (allow, list) = match &i.distribution.geo {
        GeoRule::None => return None,
        GeoRule::Allow(list) => (true, list),
        GeoRule::Deny(list) => (false, list),
    };
    let country = i.conn.country_of(i.geo, i.viewer_ip, i.country)?;
    if list.contains(&country) == allow {
        return None;
    }
    let names: Vec<&str> = list.iter().map(|c| c.as_str()).collect();
    Some(Denial::new(
        Cause::GeoBlocked,
        format!(
            "viewer {} is in {country}; distribution {} {} [{}]",
            i.viewer_ip,
            i.distribution.id,
            if allow { "allows only" } else { "blocks" },
            names.join(", ")
        ),
    ))
}
