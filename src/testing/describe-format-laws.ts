/**
 * The laws as test cases: one `describe` block per format, one `it` per law (skipped
 * laws registered as skipped, with the reason). sluice/testing does not depend on
 * vitest: the test functions are passed in, or imported from 'vitest' when the helper
 * is called, not when sluice/testing is loaded.
 */
import type { Format } from '../core/contracts.js';
import { formatLaws } from './format-laws.js';
import type { FormatLawOptions } from './laws/types.js';
import { failureMessage } from './report.js';

type TestFn = () => Promise<void> | void;

/** The part of a test runner's API the helper uses: vitest's, or any with the same shape (jest, node:test's `describe`/`it`). */
export interface TestApi {
  describe(name: string, fn: () => void): unknown;
  it: ((name: string, fn: TestFn, timeout?: number) => unknown) & {
    skip?: (name: string, fn: TestFn) => unknown;
  };
}

export interface DescribeFormatLawsOptions<T> extends FormatLawOptions<T> {
  /** `describe` and `it` to register with. @default those of 'vitest', imported on the call */
  test?: TestApi;
  /** Title of the describe block. @default `<format name> obeys the format laws` */
  name?: string;
  /** Timeout of each law's test, in ms. @default the runner's own */
  timeout?: number;
}

/**
 * Registers one test per law for `format`. A failing law fails its test with the law's
 * reason, the shrunk counterexample and the seed.
 *
 * With `test` given, the tests are registered before the call returns; without it,
 * vitest is imported first, so await the call at the top level of the test file.
 *
 * @example
 * ```ts
 * import { describeFormatLaws } from 'sluice/testing';
 * import logfmt, { samples } from './index.js';
 * import { arbitrary } from './arbitrary.js';
 *
 * await describeFormatLaws(logfmt, { arbitrary, samples });
 * ```
 */
export async function describeFormatLaws<T>(
  // biome-ignore lint/suspicious/noExplicitAny: the kit checks formats of any options type.
  format: Format<T, any>,
  options: DescribeFormatLawsOptions<T> = {},
): Promise<void> {
  const { test: given, name, timeout, ...lawOptions } = options;
  // Laws are made now, so bad options fail the test file at once rather than every test.
  const laws = formatLaws(format, lawOptions);
  const api: TestApi = given ?? ((await import('vitest')) as unknown as TestApi);
  api.describe(name ?? `${format.name} obeys the format laws`, () => {
    for (const law of laws) {
      const title = `${law.title}: ${law.statement}`;
      if (law.skip !== undefined) {
        const skipped = `${law.title}: skipped (${law.skip})`;
        if (api.it.skip) api.it.skip(skipped, () => {});
        else api.it(skipped, () => {});
        continue;
      }
      api.it(
        title,
        async () => {
          const result = await law.run();
          if (result.status === 'failed') throw new Error(failureMessage(result));
        },
        timeout,
      );
    }
  });
}
