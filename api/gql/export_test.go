package gql

// Shareable exposes shareable to the external tests.
var Shareable = shareable
