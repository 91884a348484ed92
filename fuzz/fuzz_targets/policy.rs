//! `policy::parse` on arbitrary bytes: never panics; a parsed Resource goes through the matcher.

#![no_main]

use gatehouse_signed::policy;
use gatehouse_signed::resource::{self, Url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = policy::parse(data) {
        if let Some(r) = &p.resource {
            let url = Url {
                scheme: "https",
                host: "d111111abcdef8.cloudfront.net",
                path: "/images/a.jpg",
                query: Some("size=large"),
            };
            let _ = resource::matches(r, &url);
        }
    }
});
