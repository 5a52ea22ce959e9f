//! The end-to-end suites, one binary. Each test starts its own server and
//! browser (see `tandem_tests::Env`).

mod sign_in;
