//! The search projector's own metrics (`keel_projector_search_*`), beside the engine's.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

#[derive(Clone, Default)]
pub struct SearchMetrics {
    pub documents_written: Counter,
    /// Events at or below their document's version: duplicates and late arrivals.
    pub events_stale: Counter,
    /// `_bulk` items refused with 409: the index held that version or a newer one already.
    pub version_conflicts: Counter,
    /// Streams whose missing earlier events were read from the event store.
    pub history_reads: Counter,
}

impl SearchMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("search");
        registry.register(
            "documents_written",
            "Order documents written (created or replaced)",
            self.documents_written.clone(),
        );
        registry.register(
            "events_stale",
            "Events skipped because the document already reflects them (duplicates, late arrivals)",
            self.events_stale.clone(),
        );
        registry.register(
            "version_conflicts",
            "Document writes refused because the index held that version or a newer one",
            self.version_conflicts.clone(),
        );
        registry.register(
            "history_reads",
            "Streams whose earlier events were read from the event store to complete a document",
            self.history_reads.clone(),
        );
    }
}
