//! API quota: usage ledger, limits, provider rate-limit headers, LLM error kinds (in progress).
