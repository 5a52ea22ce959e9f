//! Tests of `agents.rs`.
use super::*;

fn info(key: &str) -> AgentDevice<'_> {
    AgentDevice {
        public_key: key,
        name: "kiosk-1",
        os: "Linux",
        os_version: "Debian 12",
        agent_version: "0.1.0",
    }
}

async fn demo() -> Store {
    let store = Store::open_scratch().await.unwrap();
    crate::seed::seed_demo(&store, UnixMillis(1)).await.unwrap();
    store
}

async fn user(store: &Store, email: &str) -> (UserId, TenantId) {
    let u = store
        .user_by_email_for_sign_in(email)
        .await
        .unwrap()
        .unwrap();
    (u.id, u.tenant_id)
}

#[tokio::test]
async fn registering_twice_returns_the_same_device() {
    let store = demo().await;
    let tenant = TenantId::from("contoso");
    let a = store
        .register_agent(&info("k1"), Some(&tenant), UnixMillis(1))
        .await
        .unwrap();
    let b = store
        .register_agent(&info("k1"), None, UnixMillis(2))
        .await
        .unwrap();
    assert_eq!(a.device_id, b.device_id);
    assert!(a.enrolled && b.enrolled);
    let scope = TenantScope::of_record(&tenant);
    let device = store.device_summary(&scope, &a.device_id).await.unwrap();
    assert_eq!(device.map(|d| d.compliance), Some(Compliance::Unknown));
}

fn actor(id: &UserId) -> crate::auth::Actor {
    crate::auth::Actor {
        id: id.clone(),
        name: "Test".into(),
    }
}

#[tokio::test]
async fn an_unenrolled_device_joins_its_first_sharers_tenant_only() {
    let store = demo().await;
    let (lynne, contoso) = user(&store, "lynne@contoso.test").await;
    let (fab_admin, fabrikam) = user(&store, "admin@fabrikam.test").await;
    let key = store
        .register_agent(&info("k2"), None, UnixMillis(1))
        .await
        .unwrap();
    assert_eq!(key.tenant_id, None);
    let paired = store
        .pair_device(&key.device_id, &actor(&lynne), &contoso, UnixMillis(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(paired.tenant_id.as_ref(), Some(&contoso));
    assert_eq!(paired.signed_in_user_id.as_ref(), Some(&lynne));
    let scope = TenantScope::of_record(&contoso);
    let device = store
        .device_summary(&scope, &key.device_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!device.enrolled);
    assert_eq!(device.compliance, Compliance::NonCompliant);
    assert_eq!(
        store
            .pair_device(&key.device_id, &actor(&fab_admin), &fabrikam, UnixMillis(3))
            .await
            .unwrap(),
        Err(PairRefusal::OtherTenant)
    );
    assert_eq!(
        store
            .pair_device(
                &DeviceId("nope".into()),
                &actor(&lynne),
                &contoso,
                UnixMillis(3)
            )
            .await
            .unwrap(),
        Err(PairRefusal::UnknownDevice)
    );
}
