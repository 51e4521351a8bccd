//! The two simulators started in-process on a random 127.0.0.1 port (port 0), so tests run in
//! parallel. Stop one with its `shutdown()`, or let the test end.

pub use kimai_sim::RunningSim as RunningKimai;
pub use zammad_sim::RunningSim as RunningZammad;
pub use zammad_sim::ZammadVersion;

/// The Zammad simulator of `version` serving `dataset`.
pub async fn zammad(version: ZammadVersion, dataset: zammad_sim::Dataset) -> RunningZammad {
    zammad_sim::serve(zammad_sim::SimConfig { port: 0, version }, dataset)
        .await
        .expect("the Zammad simulator starts")
}

/// The Kimai simulator serving `dataset`; `seed` drives its fault injection, so a test that
/// injects faults with a probability below 1 sees the same outcome every run.
pub async fn kimai(seed: u64, dataset: kimai_sim::Dataset) -> RunningKimai {
    kimai_sim::serve(kimai_sim::SimConfig { port: 0, seed }, dataset)
        .await
        .expect("the Kimai simulator starts")
}
