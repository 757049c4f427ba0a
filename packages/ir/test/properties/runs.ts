/**
 * fast-check runs per property in this folder. Each run builds (and for some
 * properties interprets or prints and parses) one random program of up to
 * 12 generated ops plus adapters; 300 runs keep each property to seconds.
 */
export const NUM_RUNS = 300;

/** Programs sampled (with a fixed seed) by the coverage test. */
export const COVERAGE_SAMPLES = 300;
