//! The event store contract, run against both implementations.

mod memory {
    use keel_eventstore::InMemoryStore;

    keel_eventstore::contract_suite!(async { (InMemoryStore::new(), ()) });
}

mod postgres {
    use keel_eventstore::PgEventStore;
    use keel_tests::TestDatabase;

    async fn fresh() -> (PgEventStore, TestDatabase) {
        let db = TestDatabase::create().await;
        let store = PgEventStore::new(db.pool(4).await);
        store.migrate().await.expect("migrate");
        (store, db)
    }

    keel_eventstore::contract_suite!(fresh());
}
