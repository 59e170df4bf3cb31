// Arguments for node when it runs a service (the demo, tests and benchmarks spawn services with
// these; the `start:*` scripts in package.json spell out the same).
//
// --max-semi-space-size=32: a service allocates short-lived objects per message (decoded records,
// rows, envelopes, spans) at thousands per second. With V8's default young generation (16 MB
// semi-spaces) it ran a scavenge every few milliseconds and spent about a sixth of its CPU in the
// garbage collector (node --cpu-prof under npm run bench:engine); 32 MB semi-spaces let most of
// those objects die before a scavenge. Measured in one run: 1-task 366 -> 597 executions/s,
// 3-task 189 -> 277, for about 50 MB more resident memory at peak.
module.exports = { SERVICE_NODE_ARGS: ['--max-semi-space-size=32'] };
