//! Saga orchestration (order and payment flow); later issues fill this in.
