use leptos::prelude::*;
use tandem_protocol::session::IdentityCard;

/// A verified identity card: name, job, company, domain, photo.
#[component]
pub fn IdentityCardView(card: IdentityCard, #[prop(into)] label: String) -> impl IntoView {
    let initials: String = card
        .display_name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect();
    view! {
        <section class="identity-card" aria-label=label>
            <h2 class="card-label">{label.clone()}</h2>
            {match card.photo_url.clone() {
                Some(url) => view! { <img class="avatar" src=url alt="" /> }.into_any(),
                None => view! { <span class="avatar" aria-hidden="true">{initials}</span> }.into_any(),
            }}
            <p class="card-name">{card.display_name.clone()}</p>
            {card.job_title.clone().map(|t| view! { <p class="card-line">{t}</p> })}
            {card.company.clone().map(|c| view! { <p class="card-line">{c}</p> })}
            {card.email.clone().map(|e| view! { <p class="card-line muted">{e}</p> })}
            {card.verified_domain.clone().map(|d| view! {
                <p class="card-line verified">"Verified: " {d}</p>
            })}
        </section>
    }
}
