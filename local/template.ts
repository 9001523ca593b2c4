/**
 * Reads template.yaml the way `sam local` does: short-form intrinsics are parsed, parameters come
 * from overrides then defaults, conditions are evaluated, and `Ref`/`GetAtt` of resources resolve
 * to what the offline stack provides (or, like sam, to the logical id / a fake ARN).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, type Tags } from 'yaml';

const intrinsics = [
  ['Ref', 'scalar'],
  ['Sub', 'scalar'],
  ['Sub', 'seq'],
  ['GetAtt', 'scalar'],
  ['GetAtt', 'seq'],
  ['Join', 'seq'],
  ['If', 'seq'],
  ['Equals', 'seq'],
  ['Not', 'seq'],
  ['And', 'seq'],
  ['Or', 'seq'],
  ['Select', 'seq'],
  ['Split', 'seq'],
  ['FindInMap', 'seq'],
  ['ImportValue', 'scalar'],
  ['Base64', 'scalar'],
  ['GetAZs', 'scalar'],
  ['Condition', 'scalar'],
] as const;

const cfnTags: Tags = intrinsics.map(([name, kind]) => ({
  tag: `!${name}`,
  collection: kind === 'seq' ? 'seq' : undefined,
  resolve: (value: unknown) => {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
    if (name === 'GetAtt' && typeof value === 'string') {
      const dot = value.indexOf('.');
      return { [key]: [value.slice(0, dot), value.slice(dot + 1)] };
    }
    const plain =
      value && typeof value === 'object' && 'toJSON' in value
        ? (value as { toJSON(): unknown }).toJSON()
        : value;
    return { [key]: plain };
  },
})) as Tags;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface RawTemplate {
  Parameters?: Record<
    string,
    { Type: string; Default?: string; AllowedValues?: string[]; AllowedPattern?: string }
  >;
  Conditions?: Record<string, Json>;
  Globals?: Record<string, Record<string, Json>>;
  Resources: Record<
    string,
    {
      Type: string;
      Condition?: string;
      Properties?: Record<string, Json>;
      Metadata?: Record<string, Json>;
    }
  >;
  Outputs?: Record<string, { Value: Json; Condition?: string; Description?: string }>;
}

export const templatePath = join(dirname(new URL(import.meta.url).pathname), '..', 'template.yaml');

/** Parses a CloudFormation/SAM YAML template, expanding short-form intrinsics to their long form. */
export function readTemplate(path = templatePath): RawTemplate {
  return parse(readFileSync(path, 'utf8'), { customTags: cfnTags, merge: false }) as RawTemplate;
}

export interface ResolveOptions {
  region?: string;
  accountId?: string;
  stackName?: string;
  parameters?: Record<string, string>;
  /** What `Ref <LogicalId>` of a resource resolves to (default: the logical id, as sam local does). */
  refs?: Record<string, string>;
  /** What `GetAtt X.Attr` resolves to, keyed "X.Attr" (default: a fake ARN for .Arn, else unresolved). */
  attributes?: Record<string, string>;
}

export const unresolved = Symbol('unresolved');

export class TemplateResolver {
  readonly template: RawTemplate;
  private readonly options: Required<ResolveOptions>;
  private readonly conditions = new Map<string, boolean>();

  constructor(template: RawTemplate, options: ResolveOptions = {}) {
    this.template = template;
    this.options = {
      region: 'us-east-1',
      accountId: '123456789012',
      stackName: 'federation-broker',
      parameters: {},
      refs: {},
      attributes: {},
      ...options,
    };
  }

  parameter(name: string): string | string[] | undefined {
    const declared = this.template.Parameters?.[name];
    if (declared === undefined) return undefined;
    const value = this.options.parameters[name] ?? declared.Default;
    if (value === undefined) return undefined;
    return declared.Type === 'CommaDelimitedList' ? value.split(',').map((s) => s.trim()) : value;
  }

  condition(name: string): boolean {
    const known = this.conditions.get(name);
    if (known !== undefined) return known;
    const body = this.template.Conditions?.[name];
    if (body === undefined) throw new Error(`template: unknown condition ${name}`);
    const value = Boolean(this.resolve(body));
    this.conditions.set(name, value);
    return value;
  }

  /** Resolves intrinsics in `value`. `AWS::NoValue` entries disappear from objects and lists. */
  resolve(value: Json): Json {
    const out = this.walk(value);
    return out === unresolved ? '' : out;
  }

  private walk(value: Json): Json | typeof unresolved {
    if (Array.isArray(value)) {
      const items = value.map((v) => this.walk(v)).filter((v) => v !== noValue);
      return items.map((v) => (v === unresolved ? '' : v)) as Json[];
    }
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0] as string;
      const arg = value[key] as Json;
      const fn = this.intrinsic(key, arg);
      if (fn !== notIntrinsic) return fn;
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = this.walk(v);
      if (r === noValue) continue;
      out[k] = r === unresolved ? '' : r;
    }
    return out;
  }

  private intrinsic(key: string, arg: Json): Json | typeof unresolved | typeof notIntrinsic {
    const list = (v: Json) => (Array.isArray(v) ? v : []);
    switch (key) {
      case 'Ref':
        return this.ref(String(arg));
      case 'Condition':
        return this.condition(String(arg));
      case 'Fn::If': {
        const [cond, yes, no] = list(arg);
        return this.walk((this.condition(String(cond)) ? yes : no) as Json);
      }
      case 'Fn::Equals': {
        const [a, b] = list(arg).map((v) => this.resolve(v));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !this.resolve(list(arg)[0] as Json);
      case 'Fn::And':
        return list(arg).every((v) => Boolean(this.resolve(v)));
      case 'Fn::Or':
        return list(arg).some((v) => Boolean(this.resolve(v)));
      case 'Fn::Join': {
        const [sep, items] = list(arg);
        const resolved = this.resolve(items as Json);
        return (Array.isArray(resolved) ? resolved : [resolved]).join(String(sep));
      }
      case 'Fn::Split': {
        const [sep, source] = list(arg);
        return String(this.resolve(source as Json)).split(String(sep));
      }
      case 'Fn::Select': {
        const [index, items] = list(arg);
        const resolved = this.resolve(items as Json);
        return Array.isArray(resolved) ? (resolved[Number(index)] ?? '') : '';
      }
      case 'Fn::Sub':
        return this.sub(arg);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        const known = this.options.attributes[`${id}.${attribute}`];
        if (known !== undefined) return known;
        if (attribute === 'Arn')
          return `arn:aws:lambda:${this.options.region}:${this.options.accountId}:function:${id}`;
        return unresolved;
      }
      case 'Fn::ImportValue':
      case 'Fn::Base64':
      case 'Fn::GetAZs':
      case 'Fn::FindInMap':
        return unresolved;
      default:
        return notIntrinsic;
    }
  }

  private ref(name: string): Json | typeof unresolved | typeof noValue {
    switch (name) {
      case 'AWS::NoValue':
        return noValue;
      case 'AWS::Region':
        return this.options.region;
      case 'AWS::AccountId':
        return this.options.accountId;
      case 'AWS::StackName':
        return this.options.stackName;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
    }
    const parameter = this.parameter(name);
    if (parameter !== undefined) return parameter;
    if (this.template.Resources[name] !== undefined) return this.options.refs[name] ?? name;
    // SAM's referenceable property of an HttpApi: its stage's name ($default without StageName).
    const [api, property] = name.split('.');
    const raw = api === undefined ? undefined : this.template.Resources[api];
    if (property === 'Stage' && raw?.Type === 'AWS::Serverless::HttpApi') {
      return this.options.refs[name] ?? String(this.resolve(raw.Properties?.StageName ?? '$default'));
    }
    return unresolved;
  }

  private sub(arg: Json): string {
    const [text, vars] = Array.isArray(arg)
      ? [String(arg[0]), (arg[1] ?? {}) as Record<string, Json>]
      : [String(arg), {}];
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_, bang: string, expr: string) => {
      if (bang) return `\${${expr}}`;
      if (expr in vars) return String(this.resolve(vars[expr] as Json));
      const dot = expr.indexOf('.');
      const r =
        dot > 0 && !expr.startsWith('AWS::')
          ? this.walk({ 'Fn::GetAtt': [expr.slice(0, dot), expr.slice(dot + 1)] })
          : this.ref(expr);
      return r === unresolved || r === noValue ? '' : String(r);
    });
  }

  /** A resource with its Properties resolved. */
  resource(logicalId: string): {
    Type: string;
    Properties: Record<string, Json>;
    Metadata: Record<string, Json>;
  } {
    const raw = this.template.Resources[logicalId];
    if (raw === undefined) throw new Error(`template: no resource ${logicalId}`);
    return {
      Type: raw.Type,
      Properties: this.resolve(raw.Properties ?? {}) as Record<string, Json>,
      Metadata: this.resolve(raw.Metadata ?? {}) as Record<string, Json>,
    };
  }

  /** Whether the resource is created with these parameters (it exists and its Condition holds). */
  hasResource(logicalId: string): boolean {
    const raw = this.template.Resources[logicalId];
    return raw !== undefined && (raw.Condition === undefined || this.condition(raw.Condition));
  }

  /** Logical ids of the resources of one type these parameters create, in template order. */
  resourcesOfType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([id, r]) => r.Type === type && this.hasResource(id))
      .map(([id]) => id);
  }

  /** An output's value, or undefined when the template has no such output or its Condition is false. */
  output(name: string): string | undefined {
    const raw = this.template.Outputs?.[name];
    if (raw === undefined || (raw.Condition !== undefined && !this.condition(raw.Condition)))
      return undefined;
    return String(this.resolve(raw.Value));
  }
}

const noValue = Symbol('noValue') as unknown as Json;
const notIntrinsic = Symbol('notIntrinsic');
