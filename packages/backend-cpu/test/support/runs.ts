/** Property-test budgets shared by the CPU backend's test files. */

/** Random programs per property run (the closing note of the kernel-program issue reports it). */
export const DIFFERENTIAL_RUNS = Number(process.env.TESSERA_DIFF_RUNS ?? 200);

/** Model-shaped programs per property run: enough that the planner mutant is caught in every run (memory-plan-mutation.test.ts). */
export const MODEL_RUNS = Number(process.env.TESSERA_MODEL_RUNS ?? 300);
