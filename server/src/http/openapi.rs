//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the
//! route table so that no route goes undocumented.

use super::route::{Access, ApiRoute, Input, Output, SchemaDoc};
use axum::http::Method;
use tandem_protocol::Problem;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Required,
    ResponseBuilder, ResponsesBuilder,
};
use utoipa::{PartialSchema, ToSchema};

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

fn access_text(access: Access) -> String {
    match access {
        Access::Anyone => "Anyone.".into(),
        Access::SignedIn => "Signed-in users (session cookie).".into(),
        Access::Device => {
            "A registered agent (`Authorization: TandemDevice …`, signed with its device key)."
                .into()
        }
        Access::Needs(p) => format!("Needs the \u{201c}{}\u{201d} permission.", p.label()),
        Access::NeedsPerKind => "Manage roles (users, groups) or Manage devices (devices).".into(),
    }
}

fn operation(
    route: &ApiRoute,
    schemas: &mut Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )>,
) -> utoipa::openapi::path::Operation {
    let mut use_schema = |doc: SchemaDoc| {
        (doc.dependencies)(schemas);
        (doc.schema)()
    };
    let mut op = OperationBuilder::new()
        .summary(Some(route.summary))
        .description(Some(access_text(route.access)));
    if route.path.contains("{id}") {
        op = op.parameter(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(String::schema())),
        );
    }
    for (name, meaning) in &route.flags {
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(*meaning))
                .schema(Some(bool::schema())),
        );
    }
    op = match route.input {
        Input::Nothing => op,
        Input::Json(doc) => op.request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(use_schema(doc))).build(),
                )
                .required(Some(Required::True))
                .build(),
        )),
        Input::Csv => op.request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "text/csv",
                    ContentBuilder::new().schema(Some(String::schema())).build(),
                )
                .required(Some(Required::True))
                .build(),
        )),
    };
    let (status, success) = match route.output {
        Output::Json(status, doc) => (
            status,
            ResponseBuilder::new().description("Success").content(
                "application/json",
                ContentBuilder::new().schema(Some(use_schema(doc))).build(),
            ),
        ),
        Output::NoContent => (204, ResponseBuilder::new().description("Done")),
        Output::Redirect => (
            303,
            ResponseBuilder::new().description("Redirect (to /signin?error=CODE on failure)"),
        ),
        Output::Text => (200, ResponseBuilder::new().description("Success")),
        Output::Csv => (
            200,
            ResponseBuilder::new().description("Success").content(
                "text/csv",
                ContentBuilder::new()
                    .schema(Some(
                        utoipa::openapi::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::String)
                            .description(Some(
                                "RFC 4180 CSV with a header row; one line per session record",
                            )),
                    ))
                    .build(),
            ),
        ),
        Output::EventStream(doc) => (
            200,
            ResponseBuilder::new()
                .description("Server-sent events; each `data` is this JSON document")
                .content(
                    "text/event-stream",
                    ContentBuilder::new().schema(Some(use_schema(doc))).build(),
                ),
        ),
        Output::Upgrade => (
            101,
            ResponseBuilder::new()
                .description("WebSocket: JSON text frames of tandem_protocol::signal"),
        ),
    };
    let problem = ResponseBuilder::new()
        .description("An RFC 9457 problem document")
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(
                    utoipa::openapi::Ref::from_schema_name(Problem::name()),
                ))
                .build(),
        );
    op.responses(
        ResponsesBuilder::new()
            .response(status.to_string(), success)
            .response("default", problem)
            .build(),
    )
    .build()
}

type Schemas = Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)>;

/// Adds `T` itself and what it refers to.
fn register<T: ToSchema>(schemas: &mut Schemas) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

/// Every named wire type, so that references from lists and pages resolve.
fn register_protocol(schemas: &mut Schemas) {
    use tandem_protocol::auth::{LoginRequest, Me, ProviderInfo, TenantInfo, UserCard};
    use tandem_protocol::devices::{Compliance, DeviceSummary};
    use tandem_protocol::directory::{GroupRow, ImportKind, ImportProblem, ImportReport, UserRow};
    use tandem_protocol::rbac::{
        AccessReviewRow, AssignmentDraft, AssignmentView, Category, GroupRef, Permission,
        ReviewTarget, RoleDraft, RoleView,
    };
    use tandem_protocol::settings::{AuditEntryView, HelperNameDisplay, TenantSettings};
    use tandem_protocol::{AssignmentId, DeviceId, GroupId, RoleId, TenantId, UnixMillis, UserId};
    register::<Problem>(schemas);
    register::<LoginRequest>(schemas);
    register::<Me>(schemas);
    register::<UserCard>(schemas);
    register::<TenantInfo>(schemas);
    register::<ProviderInfo>(schemas);
    register::<DeviceSummary>(schemas);
    register::<Compliance>(schemas);
    register::<TenantSettings>(schemas);
    register::<HelperNameDisplay>(schemas);
    register::<AuditEntryView>(schemas);
    register::<tandem_protocol::admin::AuditRecord>(schemas);
    register::<RoleView>(schemas);
    register::<RoleDraft>(schemas);
    register::<GroupRef>(schemas);
    register::<AssignmentView>(schemas);
    register::<AssignmentDraft>(schemas);
    register::<AccessReviewRow>(schemas);
    register::<ReviewTarget>(schemas);
    register::<Permission>(schemas);
    register::<Category>(schemas);
    register::<UserRow>(schemas);
    register::<GroupRow>(schemas);
    register::<ImportReport>(schemas);
    register::<ImportProblem>(schemas);
    register::<ImportKind>(schemas);
    register::<tandem_protocol::directory::MemberView>(schemas);
    register::<UnixMillis>(schemas);
    register::<UserId>(schemas);
    register::<DeviceId>(schemas);
    register::<TenantId>(schemas);
    register::<GroupId>(schemas);
    register::<RoleId>(schemas);
    register::<AssignmentId>(schemas);
}

/// Builds the document.
/// The OpenAPI document of `routes` (the route table, this document's
/// own route included).
pub fn document(routes: Vec<ApiRoute>) -> OpenApi {
    let mut schemas = Vec::new();
    let mut paths = Paths::new();
    for route in routes {
        let op = operation(&route, &mut schemas);
        paths.add_path_operation(route.path, vec![http_method(&route.method)], op);
    }
    register_protocol(&mut schemas);
    let components = schemas
        .into_iter()
        .fold(ComponentsBuilder::new(), |c, (name, schema)| {
            c.schema(name, schema)
        })
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Tandem API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Remote help: sign-in, directory, RBAC, settings. Errors are RFC 9457 problem \
                     documents. State-changing requests from browsers must come from the \
                     console's own origin.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::table::api_routes;

    #[test]
    fn every_route_is_in_the_document_with_its_method() {
        let doc = serde_json::to_value(document(api_routes())).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for route in api_routes() {
            let method = route.method.as_str().to_lowercase();
            let op = &doc["paths"][route.path][&method];
            assert!(op.is_object(), "{} {} missing", route.method, route.path);
            assert!(op["responses"]["default"].is_object());
        }
        // Every reference resolves to a component schema.
        fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                        out.push(r.clone());
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(list) => list.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 10, "{found:?}");
        for reference in found {
            let name = reference.trim_start_matches("#/components/schemas/");
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "dangling {reference}"
            );
        }
        let put = &doc["paths"]["/api/admin/settings"]["put"];
        let body = &put["requestBody"]["content"]["application/json"]["schema"];
        assert!(
            body["properties"]["code_lifetime_minutes"].is_object(),
            "{body}"
        );
        let settings = &doc["paths"]["/api/admin/settings"]["put"];
        assert!(
            settings["description"]
                .as_str()
                .unwrap()
                .contains("Manage settings")
        );
    }
}
