import { validateJson } from './json-schema';
import type { ExecDeps, ModelAnswer, ModelCall, ModelMessage } from './ports';
import { NodeError } from './types';

/*
 * Structured output for generate nodes with an `output_schema`: the provider is asked for JSON in
 * its native mode (ModelCall.output), and the answer is parsed and validated here, because no
 * provider's mode guarantees a valid answer (a cut-off answer, a model that ignores constraints
 * such as minItems, the local provider's best effort). An invalid answer gets one repair: the
 * model sees its answer and the problems and answers again. A second invalid answer fails the
 * node with the problems, not retryable — the same prompt would fail the same way.
 */

export type StructuredAnswer = {
  json: Record<string, unknown>;
  answer: ModelAnswer;
  tokensIn: number;
  tokensOut: number;
  repaired: boolean;
};

/** Why an answer is not what the schema asks for; empty when it is. */
function problems(schema: Record<string, unknown>, answer: ModelAnswer): string[] {
  if (answer.jsonError !== undefined) return [`not JSON: ${answer.jsonError}`];
  if (answer.json === undefined) return ['the provider returned no JSON'];
  const v = validateJson(schema, answer.json);
  return v.valid ? [] : v.errors;
}

const repairPrompt = (errors: string[]) =>
  'Your answer does not match the required JSON Schema:\n' +
  errors.map((e) => `- ${e}`).join('\n') +
  '\nAnswer again with only the corrected JSON, matching the schema exactly.';

export async function generateStructured(
  call: ModelCall & { output: NonNullable<ModelCall['output']> },
  deps: ExecDeps,
): Promise<StructuredAnswer> {
  const options = { signal: deps.signal, onToken: deps.onToken };
  const first = await deps.generate(call, options);
  const firstProblems = problems(call.output.schema, first);
  if (!firstProblems.length)
    return {
      json: first.json as Record<string, unknown>,
      answer: first,
      tokensIn: first.tokensIn,
      tokensOut: first.tokensOut,
      repaired: false,
    };
  const messages: ModelMessage[] = [
    ...call.messages,
    { role: 'assistant', content: first.text },
    { role: 'user', content: repairPrompt(firstProblems) },
  ];
  const second = await deps.generate({ ...call, messages }, options);
  const secondProblems = problems(call.output.schema, second);
  if (secondProblems.length) {
    throw new NodeError(
      `the output does not match output_schema after one repair: ${secondProblems.slice(0, 10).join('; ')}`,
      false,
      second.provider,
    );
  }
  return {
    json: second.json as Record<string, unknown>,
    answer: second,
    tokensIn: first.tokensIn + second.tokensIn,
    tokensOut: first.tokensOut + second.tokensOut,
    repaired: true,
  };
}
