/*
 * A regular-expression matcher that runs in time linear in the subject: Thompson's construction
 * compiled to a small program, simulated by a Pike VM (each program position is visited at most
 * once per subject character), so no pattern can backtrack exponentially. `^(a|a)+$` on
 * "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab" took 7.5 s in V8's backtracking engine; here it is a few
 * thousand steps.
 *
 * The language is JavaScript's with the `u` flag, minus what needs backtracking: literals, `.`,
 * classes (`[a-z]`, `[^…]`, `\d \w \s` and their negations), groups (`(…)`, `(?:…)`,
 * `(?<name>…)`), alternation, the quantifiers `* + ? {n} {n,} {n,m}` (lazy forms too: they do not
 * change whether a pattern matches), and the assertions `^ $ \b \B`. Backreferences and
 * lookaround are refused with a message, as is anything else JavaScript would refuse.
 *
 * Matching only answers "does it match somewhere" (RegExp.prototype.test), which is all a branch
 * condition asks. The program size and the work per call are bounded (SafeRegexError beyond).
 */
export class SafeRegexError extends Error {
  override name = 'SafeRegexError';
}

/** Largest program (instructions) a pattern may compile to: counted repetitions expand. */
export const MAX_PROGRAM = 2000;
/** Steps (program positions visited) one test may take: subject length × live positions. */
export const DEFAULT_STEP_BUDGET = 20_000_000;

type CharTest = (cp: number) => boolean;
type Node =
  | { t: 'char'; test: CharTest }
  | { t: 'assert'; kind: 'bol' | 'eol' | 'word' | 'nonword' }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; options: Node[] }
  | { t: 'repeat'; node: Node; min: number; max: number }
  | { t: 'empty' };

const isDigit: CharTest = (c) => c >= 48 && c <= 57;
const isWord: CharTest = (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const SPACE = new Set([9, 10, 11, 12, 13, 32, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff]);
const isSpace: CharTest = (c) => SPACE.has(c) || (c >= 0x2000 && c <= 0x200a);
const isLineTerminator: CharTest = (c) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
const not =
  (f: CharTest): CharTest =>
  (c) =>
    !f(c);

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split('').map((c) => c.codePointAt(0)!));

class Parser {
  private i = 0;
  private readonly cps: number[];
  constructor(pattern: string) {
    this.cps = Array.from(pattern, (c) => c.codePointAt(0)!);
  }

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.cps.length) throw this.error(this.peek() === 41 ? 'unmatched ")"' : 'unexpected character');
    return node;
  }

  private error(message: string) {
    return new SafeRegexError(`${message} at position ${this.i}`);
  }
  private peek(offset = 0) {
    return this.cps[this.i + offset];
  }
  private eat(cp: number) {
    if (this.peek() !== cp) return false;
    this.i++;
    return true;
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.eat(124)) options.push(this.sequence());
    return options.length === 1 ? options[0]! : { t: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.cps.length && this.peek() !== 124 && this.peek() !== 41) items.push(this.quantified());
    return items.length === 0 ? { t: 'empty' } : items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private quantified(): Node {
    const atom = this.atom();
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === 42) [min, max] = [0, Infinity];
    else if (c === 43) [min, max] = [1, Infinity];
    else if (c === 63) [min, max] = [0, 1];
    else if (c === 123) {
      const bounds = this.braces();
      if (!bounds) return atom;
      [min, max] = bounds;
      this.i--; // braces() consumed through '}'; the shared advance below steps over it
    } else return atom;
    this.i++;
    this.eat(63); // lazy: the same language
    if (atom.t === 'assert') throw this.error('nothing to repeat');
    if (this.peek() === 42 || this.peek() === 43 || this.peek() === 63 || (this.peek() === 123 && this.lookBraces()))
      throw this.error('nothing to repeat');
    return { t: 'repeat', node: atom, min, max };
  }

  private lookBraces(): boolean {
    const save = this.i;
    const b = this.braces();
    this.i = save;
    return b !== null;
  }

  /** `{n}`, `{n,}`, `{n,m}` at the cursor (consumed), or null (then a literal "{" is an error in u mode). */
  private braces(): [number, number] | null {
    const start = this.i;
    this.i++;
    const num = () => {
      let s = '';
      while (this.peek() !== undefined && isDigit(this.peek()!)) s += String.fromCodePoint(this.cps[this.i++]!);
      return s;
    };
    const a = num();
    let b: string | null = a;
    if (this.eat(44)) b = num() || null;
    if (a === '' || !this.eat(125)) {
      this.i = start;
      throw this.error('incomplete quantifier');
    }
    const min = Number(a);
    const max = b === null ? Infinity : Number(b);
    if (max < min) throw this.error('numbers out of order in {} quantifier');
    if (min > 1000 || (max !== Infinity && max > 1000)) throw this.error('repetition counts above 1000 are not supported');
    return [min, max];
  }

  private atom(): Node {
    const c = this.peek()!;
    this.i++;
    switch (c) {
      case 94:
        return { t: 'assert', kind: 'bol' };
      case 36:
        return { t: 'assert', kind: 'eol' };
      case 46:
        return { t: 'char', test: not(isLineTerminator) };
      case 40:
        return this.group();
      case 91:
        return { t: 'char', test: this.charClass() };
      case 92:
        return this.escape(false);
      case 41:
      case 42:
      case 43:
      case 63:
        this.i--;
        throw this.error('nothing to repeat');
      case 123:
      case 125:
      case 93:
        this.i--;
        throw this.error('lone quantifier brackets');
      default:
        return { t: 'char', test: (x) => x === c };
    }
  }

  private group(): Node {
    if (this.eat(63)) {
      if (this.eat(58)) {
        // (?:…)
      } else if (this.peek() === 60 && this.peek(1) !== 61 && this.peek(1) !== 33) {
        this.i++;
        while (this.peek() !== undefined && this.peek() !== 62) {
          if (!isWord(this.peek()!) && this.peek() !== 36) throw this.error('invalid group name');
          this.i++;
        }
        if (!this.eat(62)) throw this.error('invalid group name');
      } else throw this.error('lookaround assertions are not supported (they need backtracking)');
    }
    const inner = this.alternation();
    if (!this.eat(41)) throw this.error('unterminated group');
    return inner;
  }

  /** An escape outside or inside a class; inside, `\b` is a backspace and assertions do not exist. */
  private escape(inClass: boolean): { t: 'char'; test: CharTest; cp?: number } | { t: 'assert'; kind: 'word' | 'nonword' } {
    const c = this.peek();
    if (c === undefined) throw this.error('\\ at end of pattern');
    this.i++;
    const ch = String.fromCodePoint(c);
    const lit = (cp: number) => ({ t: 'char' as const, test: (x: number) => x === cp, cp });
    switch (ch) {
      case 'd':
        return { t: 'char', test: isDigit };
      case 'D':
        return { t: 'char', test: not(isDigit) };
      case 'w':
        return { t: 'char', test: isWord };
      case 'W':
        return { t: 'char', test: not(isWord) };
      case 's':
        return { t: 'char', test: isSpace };
      case 'S':
        return { t: 'char', test: not(isSpace) };
      case 'b':
        return inClass ? lit(8) : { t: 'assert', kind: 'word' };
      case 'B':
        if (inClass) throw this.error('invalid class escape');
        return { t: 'assert', kind: 'nonword' };
      case 't':
        return lit(9);
      case 'n':
        return lit(10);
      case 'v':
        return lit(11);
      case 'f':
        return lit(12);
      case 'r':
        return lit(13);
      case '0':
        if (this.peek() !== undefined && isDigit(this.peek()!)) throw this.error('invalid decimal escape');
        return lit(0);
      case '-':
        if (!inClass) throw this.error('invalid escape');
        return lit(45);
      case 'x':
        return lit(this.hex(2));
      case 'u':
        if (this.eat(123)) {
          let s = '';
          while (this.peek() !== undefined && this.peek() !== 125) s += String.fromCodePoint(this.cps[this.i++]!);
          if (!this.eat(125) || !/^[0-9a-fA-F]{1,6}$/.test(s) || Number.parseInt(s, 16) > 0x10ffff)
            throw this.error('invalid unicode escape');
          return lit(Number.parseInt(s, 16));
        }
        return lit(this.hex(4));
      case 'c': {
        const letter = this.peek();
        if (letter === undefined || !((letter >= 65 && letter <= 90) || (letter >= 97 && letter <= 122)))
          throw this.error('invalid escape');
        this.i++;
        return lit(letter % 32);
      }
      default:
        if (isDigit(c)) throw this.error('backreferences are not supported (they need backtracking)');
        if (ch === 'k') throw this.error('backreferences are not supported (they need backtracking)');
        if (ch === 'p' || ch === 'P') throw this.error('unicode property escapes are not supported');
        if (SYNTAX.has(c)) return lit(c);
        throw this.error('invalid escape');
    }
  }

  private hex(n: number): number {
    let s = '';
    for (let k = 0; k < n; k++) {
      const c = this.peek();
      if (c === undefined || !/[0-9a-fA-F]/.test(String.fromCodePoint(c))) throw this.error('invalid escape');
      s += String.fromCodePoint(c);
      this.i++;
    }
    return Number.parseInt(s, 16);
  }

  private charClass(): CharTest {
    const negate = this.eat(94);
    const parts: CharTest[] = [];
    /** One class atom: a code point (may start a range) or a set escape (may not). */
    const classAtom = (): { cp: number } | { test: CharTest } => {
      const c = this.peek();
      if (c === undefined) throw this.error('unterminated character class');
      this.i++;
      if (c !== 92) return { cp: c };
      const e = this.escape(true);
      if (e.t !== 'char') throw this.error('invalid class escape');
      return e.cp === undefined ? { test: e.test } : { cp: e.cp };
    };
    while (this.peek() !== 93) {
      const a = classAtom();
      if (this.peek() === 45 && this.peek(1) !== 93 && this.peek(1) !== undefined) {
        this.i++;
        const b = classAtom();
        if (!('cp' in a) || !('cp' in b)) throw this.error('invalid character class range');
        if (a.cp > b.cp) throw this.error('range out of order in character class');
        const [lo, hi] = [a.cp, b.cp];
        parts.push((x) => x >= lo && x <= hi);
      } else parts.push('cp' in a ? (x) => x === a.cp : a.test);
    }
    this.i++;
    const any: CharTest = (x) => parts.some((p) => p(x));
    return negate ? not(any) : any;
  }
}

// ---- compilation ----------------------------------------------------------------------------

type Inst =
  | { op: 'char'; test: CharTest }
  | { op: 'assert'; kind: 'bol' | 'eol' | 'word' | 'nonword' }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; x: number }
  | { op: 'match' };

class Compiler {
  readonly prog: Inst[] = [];
  private emit(inst: Inst): number {
    if (this.prog.length >= MAX_PROGRAM)
      throw new SafeRegexError(`pattern too complex: it compiles to more than ${MAX_PROGRAM} instructions`);
    this.prog.push(inst);
    return this.prog.length - 1;
  }

  compile(node: Node): void {
    switch (node.t) {
      case 'empty':
        return;
      case 'char':
        this.emit({ op: 'char', test: node.test });
        return;
      case 'assert':
        this.emit({ op: 'assert', kind: node.kind });
        return;
      case 'cat':
        for (const item of node.items) this.compile(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        for (let k = 0; k < node.options.length; k++) {
          if (k < node.options.length - 1) {
            const split = this.emit({ op: 'split', x: 0, y: 0 });
            (this.prog[split] as { x: number }).x = split + 1;
            this.compile(node.options[k]!);
            jumps.push(this.emit({ op: 'jmp', x: 0 }));
            (this.prog[split] as { y: number }).y = this.prog.length;
          } else this.compile(node.options[k]!);
        }
        for (const j of jumps) (this.prog[j] as { x: number }).x = this.prog.length;
        return;
      }
      case 'repeat': {
        for (let k = 0; k < node.min; k++) this.compile(node.node);
        if (node.max === Infinity) {
          const split = this.emit({ op: 'split', x: 0, y: 0 });
          (this.prog[split] as { x: number }).x = split + 1;
          this.compile(node.node);
          this.emit({ op: 'jmp', x: split });
          (this.prog[split] as { y: number }).y = this.prog.length;
        } else {
          const splits: number[] = [];
          for (let k = node.min; k < node.max; k++) {
            const split = this.emit({ op: 'split', x: 0, y: 0 });
            (this.prog[split] as { x: number }).x = split + 1;
            splits.push(split);
            this.compile(node.node);
          }
          for (const s of splits) (this.prog[s] as { y: number }).y = this.prog.length;
        }
        return;
      }
    }
  }
}

export type SafeRegex = { readonly source: string; test(subject: string, stepBudget?: number): boolean };

/** Compiles `pattern`; throws SafeRegexError with the reason for what it does not accept. */
export function compileSafeRegex(pattern: string): SafeRegex {
  const compiler = new Compiler();
  compiler.compile(new Parser(pattern).parse());
  compiler.prog.push({ op: 'match' });
  const prog = compiler.prog;
  return { source: pattern, test: (subject, budget = DEFAULT_STEP_BUDGET) => run(prog, subject, budget) };
}

/**
 * The Pike VM: the list of live program positions advances one code point at a time. A position
 * joins a list at most once (`mark` holds the list's generation), so a step costs at most the
 * program's size, whatever the pattern; a new thread starts at every position (unanchored search).
 */
function run(prog: Inst[], subject: string, budget: number): boolean {
  const cps = Array.from(subject, (c) => c.codePointAt(0)!);
  const mark = new Int32Array(prog.length).fill(-1);
  const stack: number[] = [];
  let generation = 0;
  let steps = 0;
  const spend = () => {
    if (++steps > budget) throw new SafeRegexError(`matching took more than ${budget} steps`);
  };

  /** Adds `start` and every position reachable from it without consuming a character at `pos`; true on a match. */
  const add = (list: number[], start: number, pos: number): boolean => {
    stack.length = 0;
    stack.push(start);
    while (stack.length) {
      const pc = stack.pop()!;
      if (mark[pc] === generation) continue;
      mark[pc] = generation;
      spend();
      const inst = prog[pc]!;
      if (inst.op === 'match') return true;
      if (inst.op === 'jmp') stack.push(inst.x);
      else if (inst.op === 'split') stack.push(inst.y, inst.x);
      else if (inst.op === 'assert') {
        if (assertion(inst.kind, cps, pos)) stack.push(pc + 1);
      } else list.push(pc);
    }
    return false;
  };

  let current: number[] = [];
  if (add(current, 0, 0)) return true;
  for (let pos = 0; pos < cps.length; pos++) {
    generation++;
    const next: number[] = [];
    const cp = cps[pos]!;
    for (const pc of current) {
      spend();
      if ((prog[pc] as { test: CharTest }).test(cp) && add(next, pc + 1, pos + 1)) return true;
    }
    if (add(next, 0, pos + 1)) return true;
    current = next;
  }
  return false;
}

function assertion(kind: 'bol' | 'eol' | 'word' | 'nonword', cps: number[], pos: number): boolean {
  if (kind === 'bol') return pos === 0;
  if (kind === 'eol') return pos === cps.length;
  const before = pos > 0 && isWord(cps[pos - 1]!);
  const after = pos < cps.length && isWord(cps[pos]!);
  return kind === 'word' ? before !== after : before === after;
}
