/**
 * The PromQL lexer. It follows Prometheus' `lex.go` state machine (statements, inside braces, inside
 * brackets) so that the same inputs produce the same tokens and the same error messages, but works on
 * char codes without a regex per token, since rules and dashboards parse a lot of expressions.
 */

import { goQuote, goQuoteRune, goUnicodeVerb } from '../../../core/util/goquote.js';
import { DURATION_EXPR_WORDS, KEYWORDS, TokenType, type Token } from './tokens.js';

/** Options for {@link lex}. */
export interface LexOptions {
  /** Emit `COMMENT` tokens instead of skipping them (default false). */
  readonly comments?: boolean;
}

// Char codes used below.
const C_TAB = 0x09;
const C_LF = 0x0a;
const C_CR = 0x0d;
const C_SPACE = 0x20;
const C_BANG = 0x21;
const C_DQUOTE = 0x22;
const C_HASH = 0x23;
const C_PERCENT = 0x25;
const C_SQUOTE = 0x27;
const C_LPAREN = 0x28;
const C_RPAREN = 0x29;
const C_STAR = 0x2a;
const C_PLUS = 0x2b;
const C_COMMA = 0x2c;
const C_MINUS = 0x2d;
const C_DOT = 0x2e;
const C_SLASH = 0x2f;
const C_0 = 0x30;
const C_7 = 0x37;
const C_9 = 0x39;
const C_COLON = 0x3a;
const C_LT = 0x3c;
const C_EQ = 0x3d;
const C_GT = 0x3e;
const C_AT = 0x40;
const C_LBRACKET = 0x5b;
const C_BACKSLASH = 0x5c;
const C_RBRACKET = 0x5d;
const C_CARET = 0x5e;
const C_UNDERSCORE = 0x5f;
const C_BACKTICK = 0x60;
const C_LBRACE = 0x7b;
const C_RBRACE = 0x7d;
const C_TILDE = 0x7e;
const EOF_CODE = -1;

function isSpace(c: number): boolean {
  return c === C_SPACE || c === C_TAB || c === C_LF || c === C_CR;
}
function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}
function isHexDigit(c: number): boolean {
  return (c >= C_0 && c <= C_9) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}
function isAlpha(c: number): boolean {
  return c === C_UNDERSCORE || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}
function isAlphaNumeric(c: number): boolean {
  return isAlpha(c) || isDigit(c);
}
function isExponent(c: number): boolean {
  return c === 0x65 || c === 0x45;
}
/** Duration unit letters accepted after a number (`smhdwy`); bad combinations are caught later. */
function isUnitChar(c: number, allowYear: boolean): boolean {
  return c === 0x73 || c === 0x6d || c === 0x68 || c === 0x64 || c === 0x77 || (allowYear && c === 0x79);
}
function digitVal(c: number): number {
  if (c >= C_0 && c <= C_9) return c - C_0;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 16;
}

/** Signals a lexing error; caught inside {@link Lexer.run} and turned into an `ERROR` token. */
class LexFailure {
  constructor(
    readonly message: string,
    readonly pos: number,
  ) {}
}

/** The three states of Prometheus' lexer that matter for expressions. */
const State = { STATEMENTS: 0, BRACES: 1, BRACKETS: 2 } as const;
type State = (typeof State)[keyof typeof State];

class Lexer {
  private pos = 0;
  private start = 0;
  private state: State = State.STATEMENTS;
  private parenDepth = 0;
  private gotColon = false;
  private gotDuration = false;
  readonly tokens: Token[] = [];

  constructor(
    private readonly input: string,
    private readonly keepComments: boolean,
  ) {}

  private cc(i: number): number {
    return i < this.input.length ? this.input.charCodeAt(i) : EOF_CODE;
  }

  /** The full code point at `i`, for error messages about non-ASCII characters. */
  private cp(i: number): number {
    return i < this.input.length ? this.input.codePointAt(i)! : EOF_CODE;
  }

  private emit(type: TokenType): void {
    this.tokens.push({ type, start: this.start, end: this.pos, text: this.input.slice(this.start, this.pos) });
    this.start = this.pos;
  }

  private fail(message: string): never {
    throw new LexFailure(message, this.start);
  }

  /** Fails after a token was emitted; as in Prometheus the error takes that token's place. */
  private failReplacingLast(message: string): never {
    this.tokens.pop();
    this.fail(message);
  }

  run(): Token[] {
    try {
      for (;;) {
        if (this.step()) break;
      }
    } catch (err) {
      if (!(err instanceof LexFailure)) throw err;
      this.tokens.push({ type: TokenType.ERROR, start: err.pos, end: this.input.length, text: err.message });
    }
    return this.tokens;
  }

  /** Lexes one token (or skips blanks); returns true at the end of input. */
  private step(): boolean {
    switch (this.state) {
      case State.BRACES:
        return this.lexInsideBraces();
      case State.BRACKETS:
        return this.lexInsideBrackets();
      default:
        return this.lexStatement();
    }
  }

  private skipSpaces(): void {
    while (isSpace(this.cc(this.pos))) this.pos++;
    this.start = this.pos;
  }

  private lexComment(): void {
    this.pos++;
    for (;;) {
      const c = this.cc(this.pos);
      if (c === EOF_CODE || c === C_LF || c === C_CR) break;
      this.pos++;
    }
    if (this.keepComments) this.emit(TokenType.COMMENT);
    else this.start = this.pos;
  }

  private lexStatement(): boolean {
    const c = this.cc(this.pos);
    if (c === C_HASH) {
      this.lexComment();
      return false;
    }
    if (c === EOF_CODE) {
      if (this.parenDepth !== 0) this.fail('unclosed left parenthesis');
      this.emit(TokenType.EOF);
      return true;
    }
    if (isSpace(c)) {
      this.skipSpaces();
      return false;
    }
    this.pos++;
    switch (c) {
      case C_COMMA:
        this.emit(TokenType.COMMA);
        return false;
      case C_STAR:
        this.emit(TokenType.MUL);
        return false;
      case C_SLASH:
        this.emit(TokenType.DIV);
        return false;
      case C_PERCENT:
        this.emit(TokenType.MOD);
        return false;
      case C_PLUS:
        this.emit(TokenType.ADD);
        return false;
      case C_MINUS:
        this.emit(TokenType.SUB);
        return false;
      case C_CARET:
        this.emit(TokenType.POW);
        return false;
      case C_AT:
        this.emit(TokenType.AT);
        return false;
      case C_EQ: {
        const n = this.cc(this.pos);
        if (n === C_EQ) {
          this.pos++;
          this.emit(TokenType.EQLC);
        } else if (n === C_TILDE) {
          this.fail(`unexpected character after '=': ${goQuoteRune(n)}`);
        } else {
          this.emit(TokenType.EQL);
        }
        return false;
      }
      case C_BANG: {
        const n = this.cp(this.pos);
        if (n !== C_EQ) this.fail(`unexpected character after '!': ${goQuoteRune(n)}`);
        this.pos++;
        this.emit(TokenType.NEQ);
        return false;
      }
      case C_LT:
      case C_GT: {
        if (this.cc(this.pos) === C_SLASH) {
          this.pos++;
          this.emit(c === C_LT ? TokenType.TRIM_UPPER : TokenType.TRIM_LOWER);
          return false;
        }
        const withEq = this.cc(this.pos) === C_EQ;
        if (withEq) this.pos++;
        if (c === C_LT) this.emit(withEq ? TokenType.LTE : TokenType.LSS);
        else this.emit(withEq ? TokenType.GTE : TokenType.GTR);
        return false;
      }
      case C_DQUOTE:
      case C_SQUOTE:
        this.lexString(c);
        return false;
      case C_BACKTICK:
        this.lexRawString();
        return false;
      case C_LPAREN:
        this.emit(TokenType.LEFT_PAREN);
        this.parenDepth++;
        return false;
      case C_RPAREN:
        this.emit(TokenType.RIGHT_PAREN);
        this.parenDepth--;
        // Prometheus reports this after emitting the parenthesis (so at the position after it), and
        // the error replaces the parenthesis token.
        if (this.parenDepth < 0) this.failReplacingLast("unexpected right parenthesis ')'");
        return false;
      case C_LBRACE:
        this.emit(TokenType.LEFT_BRACE);
        this.state = State.BRACES;
        return false;
      case C_LBRACKET:
        this.gotColon = false;
        this.gotDuration = false;
        this.emit(TokenType.LEFT_BRACKET);
        this.skipSpaces();
        this.state = State.BRACKETS;
        return false;
      case C_RBRACKET:
        this.fail("unexpected right bracket ']'");
    }
    if (isDigit(c) || (c === C_DOT && isDigit(this.cc(this.pos)))) {
      this.pos--;
      this.lexNumberOrDuration();
      return false;
    }
    if (isAlpha(c) || c === C_COLON) {
      this.lexKeywordOrIdentifier();
      return false;
    }
    this.pos--;
    this.fail(`unexpected character: ${goQuoteRune(this.cp(this.pos))}`);
  }

  private lexInsideBraces(): boolean {
    const c = this.cc(this.pos);
    if (c === C_HASH) {
      this.lexComment();
      return false;
    }
    if (c === EOF_CODE) this.fail('unexpected end of input inside braces');
    if (isSpace(c)) {
      this.skipSpaces();
      return false;
    }
    if (isAlpha(c)) {
      // Inside braces keywords are plain label names and colons are not allowed.
      this.pos++;
      while (isAlphaNumeric(this.cc(this.pos))) this.pos++;
      this.emit(TokenType.IDENTIFIER);
      return false;
    }
    this.pos++;
    switch (c) {
      case C_COMMA:
        this.emit(TokenType.COMMA);
        return false;
      case C_DQUOTE:
      case C_SQUOTE:
        this.lexString(c);
        return false;
      case C_BACKTICK:
        this.lexRawString();
        return false;
      case C_EQ:
        if (this.cc(this.pos) === C_TILDE) {
          this.pos++;
          this.emit(TokenType.EQL_REGEX);
        } else {
          this.emit(TokenType.EQL);
        }
        return false;
      case C_BANG: {
        const n = this.cp(this.pos);
        this.pos++;
        if (n === C_TILDE) this.emit(TokenType.NEQ_REGEX);
        else if (n === C_EQ) this.emit(TokenType.NEQ);
        else this.fail(`unexpected character after '!' inside braces: ${goQuoteRune(n)}`);
        return false;
      }
      case C_LBRACE:
        this.fail("unexpected left brace '{'");
        break;
      case C_RBRACE:
        this.emit(TokenType.RIGHT_BRACE);
        this.state = State.STATEMENTS;
        return false;
    }
    this.pos--;
    this.fail(`unexpected character inside braces: ${goQuoteRune(this.cp(this.pos))}`);
  }

  /**
   * Inside `[...]`: numbers and durations, `:`, `]`, and the tokens of Prometheus' experimental
   * duration expressions (which the parser then rejects with a clear message).
   */
  private lexInsideBrackets(): boolean {
    const c = this.cc(this.pos);
    if (c === EOF_CODE) this.fail('unexpected end of input in duration expression');
    if (isSpace(c)) {
      this.skipSpaces();
      return false;
    }
    if (isDigit(c) || (c === C_DOT && isDigit(this.cc(this.pos + 1)))) {
      this.gotDuration = true;
      this.lexNumberOrDuration();
      return false;
    }
    this.pos++;
    switch (c) {
      case C_RBRACKET:
        this.emit(TokenType.RIGHT_BRACKET);
        this.state = State.STATEMENTS;
        return false;
      case C_COLON:
        this.emit(TokenType.COLON);
        if (!this.gotDuration) this.failReplacingLast('unexpected colon before duration in duration expression');
        if (this.gotColon) this.failReplacingLast('unexpected repeated colon in duration expression');
        this.gotColon = true;
        return false;
      case C_LPAREN:
        this.emit(TokenType.LEFT_PAREN);
        this.parenDepth++;
        return false;
      case C_RPAREN:
        this.emit(TokenType.RIGHT_PAREN);
        this.parenDepth--;
        if (this.parenDepth < 0) this.failReplacingLast("unexpected right parenthesis ')'");
        return false;
      case C_PLUS:
        this.emit(TokenType.ADD);
        return false;
      case C_MINUS:
        this.emit(TokenType.SUB);
        return false;
      case C_STAR:
        this.emit(TokenType.MUL);
        return false;
      case C_SLASH:
        this.emit(TokenType.DIV);
        return false;
      case C_PERCENT:
        this.emit(TokenType.MOD);
        return false;
      case C_CARET:
        this.emit(TokenType.POW);
        return false;
      case C_COMMA:
        this.emit(TokenType.COMMA);
        return false;
    }
    if (isAlpha(c)) {
      // Only the words of Prometheus' duration expressions (step(), min_of(), …) may appear here.
      while (isAlpha(this.cc(this.pos))) this.pos++;
      const word = this.input.slice(this.start, this.pos).toLowerCase();
      if (DURATION_EXPR_WORDS.has(word)) {
        this.emit(TokenType.IDENTIFIER);
        return false;
      }
      this.pos = this.start + 1;
    }
    this.pos--;
    this.fail(`unexpected character in duration expression: ${goQuoteRune(this.cp(this.pos))}`);
  }

  private lexKeywordOrIdentifier(): void {
    // The first character (a letter, `_` or `:`) is already consumed.
    let hasColon = this.cc(this.start) === C_COLON;
    for (;;) {
      const c = this.cc(this.pos);
      if (isAlphaNumeric(c)) this.pos++;
      else if (c === C_COLON) {
        hasColon = true;
        this.pos++;
      } else break;
    }
    if (hasColon) {
      this.emit(TokenType.METRIC_IDENTIFIER);
      return;
    }
    const word = this.input.slice(this.start, this.pos);
    const kw = KEYWORDS.get(word) ?? KEYWORDS.get(word.toLowerCase());
    this.emit(kw ?? TokenType.IDENTIFIER);
  }

  private lexNumberOrDuration(): void {
    if (this.scanNumber()) {
      this.emit(TokenType.NUMBER);
      return;
    }
    // Not a plain number: a duration needs a unit next, then optionally more number/unit pairs.
    if (this.acceptRemainingDuration()) {
      this.emit(TokenType.DURATION);
      return;
    }
    this.fail(`bad number or duration syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
  }

  private acceptRemainingDuration(): boolean {
    if (!isUnitChar(this.cc(this.pos), true)) return false;
    this.pos++;
    // Support for ms; bad units like "hs" are reported by parseDuration.
    if (this.cc(this.pos) === 0x73) this.pos++;
    while (isDigit(this.cc(this.pos))) {
      while (isDigit(this.cc(this.pos))) this.pos++;
      // Years must come first, so "y" is no longer accepted here.
      if (!isUnitChar(this.cc(this.pos), false)) return false;
      this.pos++;
      if (this.cc(this.pos) === 0x73) this.pos++;
    }
    const next = this.cc(this.pos);
    if (isAlphaNumeric(next)) {
      // Prometheus consumed the offending character before failing; keep it in the message.
      this.pos++;
      return false;
    }
    return true;
  }

  /**
   * Scans a number (decimal, hex, octal, float, with `_` separators) exactly as Prometheus' lexer
   * does, including its quirks, so that the same inputs are accepted and rejected. The token is not
   * necessarily a valid number; the parser reports that.
   */
  private scanNumber(): boolean {
    const initial = this.pos;
    let hex = false;
    if (this.cc(this.pos) === C_0) {
      this.pos++;
      const x = this.cc(this.pos);
      if (x === 0x78 || x === 0x58) {
        this.pos++;
        if (this.cc(this.pos) === C_UNDERSCORE) this.pos++;
        hex = true;
      }
    }
    const digit = hex ? isHexDigit : isDigit;
    if (this.cc(this.pos) === C_DOT) this.pos++;
    if (digit(this.cc(this.pos))) this.pos++;
    let dotSeen = false;
    let expSeen = false;
    for (;;) {
      const c = this.cc(this.pos);
      const isExp = isExponent(c);
      if (!(digit(c) || c === C_DOT || c === C_UNDERSCORE || isExp)) break;
      if (c === C_DOT) {
        this.pos++;
        if (dotSeen) return false;
        dotSeen = true;
        const n = this.cc(this.pos);
        if (n === C_UNDERSCORE || n === C_DOT) {
          this.pos++;
          return false;
        }
        // Fractional hexadecimal literals are not allowed.
        if (hex) return false;
        continue;
      }
      if (isExp) {
        this.pos++;
        if (expSeen) return false;
        expSeen = true;
        const sign = this.cc(this.pos);
        if (sign === C_PLUS || sign === C_MINUS) this.pos++;
        const n = this.cc(this.pos);
        if (n === C_DOT || n === C_UNDERSCORE || isExponent(n)) {
          this.pos++;
          return false;
        }
        if (n === EOF_CODE) return false;
        continue;
      }
      if (c === C_UNDERSCORE) {
        this.pos++;
        const n = this.cc(this.pos);
        if (n === C_DOT || n === C_UNDERSCORE || isExponent(n)) {
          this.pos++;
          return false;
        }
        if (n === EOF_CODE) return false;
        continue;
      }
      while (digit(this.cc(this.pos))) this.pos++;
    }
    if (this.pos === initial) return false;
    return !isAlphaNumeric(this.cc(this.pos));
  }

  /** Scans a `"…"` or `'…'` string, validating escapes like Go's scanner. The opening quote is consumed. */
  private lexString(quote: number): void {
    for (;;) {
      const c = this.cc(this.pos);
      this.pos++;
      if (c === C_BACKSLASH) {
        this.lexEscape(quote);
        continue;
      }
      if (c === EOF_CODE || c === C_LF) this.fail('unterminated quoted string');
      if (c === quote) break;
    }
    this.emit(TokenType.STRING);
  }

  private lexEscape(quote: number): void {
    let ch = this.cp(this.pos);
    this.pos += ch > 0xffff ? 2 : 1;
    let n: number;
    let base: number;
    let max: number;
    switch (ch) {
      case 0x61: // a
      case 0x62: // b
      case 0x66: // f
      case 0x6e: // n
      case 0x72: // r
      case 0x74: // t
      case 0x76: // v
      case C_BACKSLASH:
        return;
      case 0x78: // x
        n = 2;
        base = 16;
        max = 255;
        ch = this.nextRune();
        break;
      case 0x75: // u
        n = 4;
        base = 16;
        max = 0x10ffff;
        ch = this.nextRune();
        break;
      case 0x55: // U
        n = 8;
        base = 16;
        max = 0x10ffff;
        ch = this.nextRune();
        break;
      case EOF_CODE:
        this.fail('escape sequence not terminated');
        break;
      default:
        if (ch === quote) return;
        if (ch >= C_0 && ch <= C_7) {
          n = 3;
          base = 8;
          max = 255;
          break;
        }
        this.fail(`unknown escape sequence ${goUnicodeVerb(ch)}`);
    }
    let x = 0;
    while (n > 0) {
      const d = digitVal(ch);
      if (d >= base) {
        if (ch === EOF_CODE) this.fail('escape sequence not terminated');
        this.fail(`illegal character ${goUnicodeVerb(ch)} in escape sequence`);
      }
      x = x * base + d;
      n--;
      if (n > 0) ch = this.nextRune();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) this.fail('escape sequence is an invalid Unicode code point');
  }

  private nextRune(): number {
    const ch = this.cp(this.pos);
    if (ch !== EOF_CODE) this.pos += ch > 0xffff ? 2 : 1;
    return ch;
  }

  private lexRawString(): void {
    for (;;) {
      const c = this.cc(this.pos);
      this.pos++;
      if (c === EOF_CODE) this.fail('unterminated raw string');
      if (c === C_BACKTICK) break;
    }
    this.emit(TokenType.STRING);
  }
}

/**
 * Lexes a whole PromQL expression. The result always ends with an `EOF` token, or with an `ERROR`
 * token at the first lexing error (its `start` is where Prometheus reports the error).
 */
export function lex(input: string, options: LexOptions = {}): Token[] {
  return new Lexer(input, options.comments === true).run();
}
