//! The demo tenant seeded into an empty database for the embedded default.
//!
//! Its passwords are public, printed at start: `Config` refuses demo seeding
//! on a non-loopback address unless explicitly forced.

use crate::auth::{Authorized, ManageDevices, ManageRoles, hash_password};
use crate::store::{NewDevice, NewUser, Store};
use tandem_protocol::devices::Compliance;
use tandem_protocol::rbac::Permission::{OfferRemoteAssistance, TakeFullControl, ViewScreen};
use tandem_protocol::rbac::{AssignmentDraft, RoleDraft};
use tandem_protocol::{DeviceId, GroupId, RoleId, TenantId, UnixMillis, UserId};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "tandem-demo";

/// A demo person: e-mail, display name, job title, what they are for.
pub struct DemoAccount {
    pub email: &'static str,
    pub display_name: &'static str,
    pub job_title: &'static str,
    pub role: &'static str,
}

/// Contoso, the demo tenant people sign in to.
pub const CONTOSO: &[DemoAccount] = &[
    DemoAccount {
        email: "admin@contoso.test",
        display_name: "Adele Vance",
        job_title: "IT Administrator",
        role: "admin",
    },
    DemoAccount {
        email: "megan@contoso.test",
        display_name: "Megan Bowen",
        job_title: "Help Desk Technician",
        role: "helper",
    },
    DemoAccount {
        email: "alex@contoso.test",
        display_name: "Alex Wilber",
        job_title: "Help Desk Trainee (view only)",
        role: "helper",
    },
    DemoAccount {
        email: "lynne@contoso.test",
        display_name: "Lynne Robbins",
        job_title: "Accountant",
        role: "sharer",
    },
    DemoAccount {
        email: "diego@contoso.test",
        display_name: "Diego Siciliani",
        job_title: "Sales Manager",
        role: "sharer",
    },
];

/// Fabrikam, a second tenant that exists so isolation can be seen and tested.
pub const FABRIKAM: &[DemoAccount] = &[DemoAccount {
    email: "admin@fabrikam.test",
    display_name: "Fabrice Kamau",
    job_title: "IT Administrator",
    role: "admin",
}];

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Password(#[from] crate::auth::PasswordError),
    #[error(transparent)]
    Rbac(#[from] crate::store::RbacChangeError),
    #[error("seed data refers to unknown account {0}")]
    UnknownAccount(&'static str),
}

struct Seeder<'a> {
    store: &'a Store,
    now: UnixMillis,
    hash: String,
}

impl Seeder<'_> {
    async fn tenant(
        &self,
        id: &str,
        name: &str,
        domain: &str,
        accounts: &[DemoAccount],
    ) -> Result<(TenantId, Vec<UserId>), SeedError> {
        let tenant = TenantId::from(id);
        self.store.create_tenant(&tenant, name, self.now).await?;
        let mut ids = Vec::new();
        for account in accounts {
            let mut names = account.display_name.splitn(2, ' ');
            let user = NewUser {
                email: account.email.to_owned(),
                display_name: account.display_name.to_owned(),
                given_name: names.next().map(str::to_owned),
                family_name: names.next().map(str::to_owned),
                job_title: Some(account.job_title.to_owned()),
                company: Some(name.to_owned()),
                verified_domain: Some(domain.to_owned()),
                photo_url: None,
                password_hash: Some(self.hash.clone()),
            };
            ids.push(
                self.store
                    .create_user(&roles_in(&tenant), &user, self.now)
                    .await?,
            );
        }
        Ok((tenant, ids))
    }

    async fn device(
        &self,
        tenant: &TenantId,
        name: &str,
        (os, os_version): (&str, &str),
        primary_user: Option<UserId>,
        (enrolled, compliance): (bool, Compliance),
        seen_minutes_ago: Option<i64>,
    ) -> Result<DeviceId, SeedError> {
        let device = NewDevice {
            name: name.to_owned(),
            os: os.to_owned(),
            os_version: os_version.to_owned(),
            primary_user,
            enrolled,
            compliance,
            last_seen: seen_minutes_ago.map(|m| UnixMillis(self.now.0 - m * 60_000)),
            agent_version: seen_minutes_ago.map(|_| env!("CARGO_PKG_VERSION").to_owned()),
        };
        let devices = Authorized::<ManageDevices>::system(tenant.clone(), "demo seed");
        Ok(self
            .store
            .create_device(&devices, &device, self.now)
            .await?)
    }
}

fn user(
    ids: &[UserId],
    accounts: &[DemoAccount],
    email: &'static str,
) -> Result<UserId, SeedError> {
    accounts
        .iter()
        .position(|a| a.email == email)
        .and_then(|i| ids.get(i).cloned())
        .ok_or(SeedError::UnknownAccount(email))
}

/// The server's own authority over `tenant`'s directory while seeding.
fn roles_in(tenant: &TenantId) -> Authorized<ManageRoles> {
    Authorized::system(tenant.clone(), "demo seed")
}

/// An assignment over all users and all devices.
fn everyone(name: &str, role: &str, admins: &GroupId) -> AssignmentDraft {
    AssignmentDraft {
        name: name.into(),
        role_id: RoleId::from(role),
        admin_groups: vec![admins.clone()],
        all_users: true,
        all_devices: true,
        scope_groups: vec![],
    }
}

/// Seeds both demo tenants into an empty database. Returns false, doing
/// nothing, when any tenant already exists.
pub async fn seed_demo(store: &Store, now: UnixMillis) -> Result<bool, SeedError> {
    if store.has_tenants().await? {
        return Ok(false);
    }
    let seeder = Seeder {
        store,
        now,
        hash: hash_password(DEMO_PASSWORD.to_owned()).await?,
    };
    let (contoso, ids) = seeder
        .tenant("contoso", "Contoso", "contoso.test", CONTOSO)
        .await?;
    let who = |email| user(&ids, CONTOSO, email);
    let group = |name: &'static str, members: Vec<UserId>| {
        let contoso = contoso.clone();
        async move {
            store
                .create_group(&roles_in(&contoso), name, &members)
                .await
        }
    };
    let it_admins = group("IT Admins", vec![who("admin@contoso.test")?]).await?;
    let help_desk = group("Help Desk", vec![who("megan@contoso.test")?]).await?;
    let trainees = group("Help Desk Trainees", vec![who("alex@contoso.test")?]).await?;
    let finance = group("Finance", vec![who("lynne@contoso.test")?]).await?;
    group("Sales", vec![who("diego@contoso.test")?]).await?;
    let kiosks = group("Kiosks", vec![]).await?;

    use Compliance::*;
    let windows = ("Windows", "11 Pro 24H2");
    let ubuntu = ("Ubuntu", "24.04 LTS");
    let (lynne, diego) = (who("lynne@contoso.test")?, who("diego@contoso.test")?);
    seeder
        .device(
            &contoso,
            "LT-LYNNE-01",
            windows,
            Some(lynne),
            (true, Compliant),
            Some(3),
        )
        .await?;
    seeder
        .device(
            &contoso,
            "DT-DIEGO-02",
            ubuntu,
            Some(diego),
            (true, NonCompliant),
            Some(95),
        )
        .await?;
    let kiosk = seeder
        .device(
            &contoso,
            "KIOSK-LOBBY",
            windows,
            None,
            (false, NonCompliant),
            Some(60 * 26),
        )
        .await?;
    store.add_group_devices(&kiosks, &[kiosk]).await?;
    seeder
        .device(
            &contoso,
            "LT-SPARE-07",
            windows,
            None,
            (true, Unknown),
            None,
        )
        .await?;

    let roles = Authorized::<ManageRoles>::system(contoso.clone(), "demo seed");
    store
        .create_role(
            &roles,
            &RoleDraft {
                name: "Tier 2 (no elevation)".into(),
                description: "Full control, but never on elevated prompts.".into(),
                permissions: [ViewScreen, TakeFullControl, OfferRemoteAssistance]
                    .into_iter()
                    .collect(),
                version: None,
            },
            now,
        )
        .await?;
    for draft in [
        everyone("IT admins: everything", "builtin-administrator", &it_admins),
        everyone(
            "Help desk: everyone",
            "builtin-help-desk-operator",
            &help_desk,
        ),
        AssignmentDraft {
            name: "Trainees: Finance, view only".into(),
            role_id: RoleId::from("builtin-remote-viewer"),
            admin_groups: vec![trainees],
            all_users: false,
            all_devices: false,
            scope_groups: vec![finance],
        },
    ] {
        store.create_assignment(&roles, &draft, now).await?;
    }

    let (fabrikam, fab_ids) = seeder
        .tenant("fabrikam", "Fabrikam", "fabrikam.test", FABRIKAM)
        .await?;
    let fab_admin = user(&fab_ids, FABRIKAM, "admin@fabrikam.test")?;
    let fab_admins = store
        .create_group(
            &roles_in(&fabrikam),
            "IT Admins",
            std::slice::from_ref(&fab_admin),
        )
        .await?;
    seeder
        .device(
            &fabrikam,
            "FAB-WS-001",
            windows,
            Some(fab_admin),
            (true, Compliant),
            Some(1),
        )
        .await?;
    let fab_roles = Authorized::<ManageRoles>::system(fabrikam, "demo seed");
    store
        .create_assignment(
            &fab_roles,
            &everyone(
                "IT admins: everything",
                "builtin-administrator",
                &fab_admins,
            ),
            now,
        )
        .await?;
    Ok(true)
}

/// The lines printed at start when the demo tenant is in use.
pub fn demo_banner() -> String {
    let mut text = String::from("Demo sign-ins (password for all: ");
    text.push_str(DEMO_PASSWORD);
    text.push_str(")\n");
    for account in CONTOSO.iter().chain(FABRIKAM) {
        text.push_str(&format!(
            "  {:<22} {:<16} {} ({})\n",
            account.email, account.display_name, account.job_title, account.role
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn seeds_once_and_only_into_an_empty_database() {
        let store = Store::open_scratch().await.unwrap();
        assert!(seed_demo(&store, UnixMillis(1_000_000_000)).await.unwrap());
        assert!(!seed_demo(&store, UnixMillis(1_000_000_000)).await.unwrap());
        let megan = store
            .user_by_email_for_sign_in("megan@contoso.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(megan.card.company.as_deref(), Some("Contoso"));
        assert!(demo_banner().contains("megan@contoso.test"));
    }
}
