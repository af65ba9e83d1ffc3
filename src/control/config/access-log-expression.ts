/**
 * The part of CEL that Telemetry `accessLogging[].filter.expression` supports: comparisons of
 * `response.code` with an integer (`==`, `!=`, `<`, `<=`, `>`, `>=`), joined by `&&` and `||`,
 * with parentheses — e.g. `response.code >= 400`, `response.code >= 500 || response.code == 429`.
 * It becomes Envoy's own access-log filters (status_code_filter, and_filter, or_filter) rather
 * than Istio's CEL extension filter, so the proxy evaluates it without a CEL interpreter. Pure.
 */

export type CodeOp = 'EQ' | 'GE' | 'LE';
/** The expression as Envoy can say it: comparisons of the code (EQ, GE, LE only), and/or. */
export type CodeExpr =
  | { readonly kind: 'cmp'; readonly op: CodeOp; readonly value: number }
  | { readonly kind: 'and' | 'or'; readonly parts: readonly CodeExpr[] }
  | { readonly kind: 'const'; readonly value: boolean };

type Token = { t: 'code' } | { t: 'int'; v: number } | { t: 'op'; v: string } | { t: '(' | ')' | '&&' | '||' };

/** Parses `expr`; returns the tree or a message saying what is wrong and where. */
export function parseAccessLogExpression(expr: string): { expr: CodeExpr } | { error: string } {
  let tokens: Token[];
  try { tokens = tokenize(expr); } catch (e) { return { error: (e as Error).message }; }
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const fail = (what: string): never => { throw new Error(`${what} in ${JSON.stringify(expr)}`); };
  const orExpr = (): CodeExpr => {
    const parts = [andExpr()];
    while (peek()?.t === '||') { i++; parts.push(andExpr()); }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  };
  const andExpr = (): CodeExpr => {
    const parts = [primary()];
    while (peek()?.t === '&&') { i++; parts.push(primary()); }
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  };
  const primary = (): CodeExpr => {
    const tk = tokens[i++];
    if (tk?.t === '(') {
      const e = orExpr();
      if (tokens[i++]?.t !== ')') fail('expected ")"');
      return e;
    }
    let op: string;
    let value: number;
    if (tk?.t === 'code') {
      const o = tokens[i++];
      const v = tokens[i++];
      if (o?.t !== 'op') return fail('expected a comparison operator after response.code');
      if (v?.t !== 'int') return fail('expected an integer');
      op = o.v; value = v.v;
    } else if (tk?.t === 'int') {
      // `400 <= response.code`: the same comparison mirrored.
      const o = tokens[i++];
      if (o?.t !== 'op' || tokens[i++]?.t !== 'code') return fail('expected "<op> response.code"');
      value = tk.v;
      op = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' } as Record<string, string>)[o.v]!;
    } else {
      return fail('expected response.code, an integer or "("');
    }
    return comparison(op, value);
  };
  try {
    if (tokens.length === 0) return { error: 'empty expression' };
    const e = orExpr();
    if (i < tokens.length) fail('unexpected input');
    return { expr: e };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Envoy's ComparisonFilter has EQ, GE and LE; the others are said with them. Codes are 0-999 (0: no response). */
function comparison(op: string, v: number): CodeExpr {
  switch (op) {
    case '==': return { kind: 'cmp', op: 'EQ', value: v };
    case '>=': return { kind: 'cmp', op: 'GE', value: v };
    case '<=': return { kind: 'cmp', op: 'LE', value: v };
    case '>': return { kind: 'cmp', op: 'GE', value: v + 1 };
    case '<': return v <= 0 ? { kind: 'const', value: false } : { kind: 'cmp', op: 'LE', value: v - 1 };
    case '!=': return v <= 0 ? { kind: 'cmp', op: 'GE', value: v + 1 } : { kind: 'or', parts: [{ kind: 'cmp', op: 'LE', value: v - 1 }, { kind: 'cmp', op: 'GE', value: v + 1 }] };
    default: throw new Error(`unknown operator ${op}`);
  }
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(response\.code)|(\d+)|(==|!=|<=|>=|<|>)|(&&|\|\|)|([()]))/y;
  let at = 0;
  while (at < s.length) {
    if (/^\s*$/.test(s.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) throw new Error(`unsupported expression at ${JSON.stringify(s.slice(at).trim().slice(0, 20))}: only response.code compared with integers, &&, || and parentheses are supported`);
    at = re.lastIndex;
    if (m[1]) out.push({ t: 'code' });
    else if (m[2]) {
      const v = Number(m[2]);
      if (v > 999) throw new Error(`status code ${m[2]} out of range 0-999`);
      out.push({ t: 'int', v });
    } else if (m[3]) out.push({ t: 'op', v: m[3] });
    else if (m[4]) out.push({ t: m[4] as '&&' | '||' });
    else out.push({ t: m[5] as '(' | ')' });
  }
  return out;
}
