//! Does an S3 bucket policy let a distribution's origin access control read the bucket?
//! (`cloudfront.md` §8.1: a statement allowing `s3:GetObject` to the service principal
//! `cloudfront.amazonaws.com` with `AWS:SourceArn` = the distribution's ARN; `s3:ListBucket`
//! so that missing objects are 404, not 403.)

use serde_json::Value;

/// What the policy grants the distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `s3:GetObject` on the bucket's objects.
    pub get_object: bool,
    /// `s3:ListBucket` on the bucket.
    pub list_bucket: bool,
}

/// Parses `aws s3api get-bucket-policy` output (`{"Policy": "<json>"}`) or a policy document.
pub fn parse(text: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("Policy") {
        Some(Value::String(inner)) => {
            serde_json::from_str(inner).map_err(|e| format!("Policy is not JSON: {e}"))
        }
        _ => Ok(v),
    }
}

fn list(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn glob(p: &str, s: &str) -> bool {
    gatehouse_model::glob::matches(p.as_bytes(), s.as_bytes())
}

/// What `policy` grants to distribution `distribution_id` (ARN suffix `distribution/<id>`) on
/// `bucket`.
pub fn grant(policy: &Value, bucket: &str, distribution_id: &str) -> Grant {
    let mut g = Grant {
        get_object: false,
        list_bucket: false,
    };
    let stmts: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    };
    for st in stmts {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let principal_ok = match st.get("Principal") {
            Some(Value::String(s)) => s == "*",
            Some(p) => {
                list(p.get("Service")).contains(&"cloudfront.amazonaws.com")
                    || list(p.get("AWS")).contains(&"*")
            }
            None => false,
        };
        if !principal_ok {
            continue;
        }
        // A SourceArn condition, when present, must name this distribution.
        let source_ok = match st.get("Condition") {
            None => true,
            Some(c) => {
                let arns: Vec<&str> = ["StringEquals", "ArnLike", "StringLike", "ArnEquals"]
                    .iter()
                    .filter_map(|op| c.get(*op))
                    .flat_map(|m| {
                        list(m.get("AWS:SourceArn"))
                            .into_iter()
                            .chain(list(m.get("aws:SourceArn")))
                    })
                    .collect();
                arns.is_empty()
                    || arns.iter().any(|a| {
                        glob(
                            a,
                            &format!(
                                "arn:aws:cloudfront::000000000000:distribution/{distribution_id}"
                            ),
                        ) || a.ends_with(&format!("distribution/{distribution_id}"))
                    })
            }
        };
        if !source_ok {
            continue;
        }
        let actions = list(st.get("Action"));
        let resources = list(st.get("Resource"));
        let has = |action: &str, resource: &str| {
            actions
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), action))
                && resources.iter().any(|r| glob(r, resource))
        };
        g.get_object |= has("s3:getobject", &format!("arn:aws:s3:::{bucket}/any-object"));
        g.list_bucket |= has("s3:listbucket", &format!("arn:aws:s3:::{bucket}"));
    }
    g
}

/// The bucket of an S3 REST origin domain (`bucket.s3.us-east-1.amazonaws.com`).
pub fn bucket_of(domain: &str) -> Option<&str> {
    let i = domain.find(".s3.").or_else(|| domain.find(".s3-"))?;
    Some(&domain[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oac_policy() {
        let p = parse(r#"{"Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"cloudfront.amazonaws.com\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":{\"AWS:SourceArn\":\"arn:aws:cloudfront::111122223333:distribution/E1\"}}}]}"}"#).unwrap();
        assert_eq!(
            grant(&p, "b", "E1"),
            Grant {
                get_object: true,
                list_bucket: false
            }
        );
        assert_eq!(
            grant(&p, "b", "E2"),
            Grant {
                get_object: false,
                list_bucket: false
            }
        );
        assert!(!grant(&p, "other", "E1").get_object);
        assert_eq!(
            bucket_of("amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com"),
            Some("amzn-s3-demo-bucket")
        );
    }
}
