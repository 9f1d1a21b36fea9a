// Placeholder filled in by the peers benchmark.
window.benchReady = true
