// Scenario expectations: ranges that a metric must fall in at the end of a run. They
// make a scenario a test (`virtlab run` exits 1 when one fails, and every scenario
// under scenarios/ runs as a jest test).

import type { Metrics } from '../metrics/metrics';
import type { Expectation } from './types';

export interface ExpectationResult {
  readonly metric: string;
  readonly value: number | undefined;
  readonly ok: boolean;
  /** "dc.vms.running in [16, 16]" */
  readonly text: string;
  /** Why it failed, with the place it was written. */
  readonly reason?: string;
}

export function checkExpectations(expect: readonly Expectation[], metrics: Metrics): ExpectationResult[] {
  return expect.map((e) => {
    const value = metrics.value(e.metric);
    const range = `[${e.min ?? '-∞'}, ${e.max ?? '∞'}]`;
    const text = `${e.metric} in ${range}`;
    if (value === undefined) {
      return { metric: e.metric, value, ok: false, text, reason: `${e.where}: no metric '${e.metric}' was recorded` };
    }
    const ok = (e.min === undefined || value >= e.min) && (e.max === undefined || value <= e.max);
    return { metric: e.metric, value, ok, text, reason: ok ? undefined : `${e.where}: ${e.metric} = ${value}, expected ${range}` };
  });
}
