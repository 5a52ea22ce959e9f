//! The route table's `Access` against the authorization matrix.

use super::support::app;
use super::{CALLERS, matrix};
use tandem_protocol::routes::AUTH_ME;

/// The route table's `Access` and the matrix's expectations must agree,
/// with each caller's permissions read from the server itself: a route
/// that needs a permission answers 403 to whoever lacks it and lets its
/// holders through, a signed-in route answers 401 only to the anonymous
/// caller, a device route only to device keys, and an open route to all.
/// The matrix test above then checks the expectations against the
/// handlers, so a handler whose extractor disagrees with its row in the
/// table fails one of the two. (Checked by mutation: the settings route
/// marked `SignedIn` fails here. Two permissions that the same demo
/// callers hold, such as Manage settings and Manage roles, cannot be told
/// apart by these callers.)
#[tokio::test]
async fn the_route_tables_access_agrees_with_the_matrix() {
    use tandem_protocol::rbac::Permission;
    use tandem_server::http::Access;
    let app = app().await;
    let mut held = Vec::new();
    for (_, email) in CALLERS {
        held.push(match email {
            Some(email) => {
                let cookie = app.sign_in(email).await;
                let me: tandem_protocol::auth::Me =
                    serde_json::from_value(app.get_json(AUTH_ME, &cookie).await).unwrap();
                Some(me.admin_permissions)
            }
            None => None,
        });
    }
    let holds = |column: usize, permission: Permission| {
        held[column]
            .as_ref()
            .is_some_and(|set| set.contains(permission))
    };
    // A "signed in" route whose 403s fall exactly on the callers who lack
    // one administration permission is that permission's route, weakened.
    let needs_in_disguise = |expect: &[u16; 6]| {
        Permission::ALL.iter().any(|&permission| {
            expect.contains(&403)
                && (1..CALLERS.len())
                    .all(|column| (expect[column] == 403) != holds(column, permission))
        })
    };
    let rows = matrix();
    let mut disagreements = Vec::new();
    for (method, path, access) in tandem_server::http::api_route_access() {
        let row = rows
            .iter()
            .find(|r| r.method == method && r.route == path)
            .expect("every route has a row (checked above)");
        for (column, (who, _)) in CALLERS.iter().enumerate() {
            let got = row.expect[column];
            let passes = got != 401 && got != 403;
            let fits = match access {
                Access::Anyone => passes,
                Access::Device => got == 401,
                _ if column == 0 => got == 401,
                Access::SignedIn => got != 401 && !needs_in_disguise(&row.expect),
                Access::Needs(permission) => {
                    if holds(column, permission) {
                        passes
                    } else {
                        got == 403
                    }
                }
                Access::NeedsPerKind => {
                    let either = holds(column, Permission::ManageRoles)
                        || holds(column, Permission::ManageDevices);
                    if either { got != 401 } else { got == 403 }
                }
            };
            if !fits {
                disagreements.push(format!("{method} {path} ({access:?}) as {who}: {got}"));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "the route table and the matrix disagree:\n{}",
        disagreements.join("\n")
    );
}
