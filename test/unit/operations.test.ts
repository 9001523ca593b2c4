/**
 * The operations part of template.yaml: alarms, the optional SNS topic, the dashboard and the optional
 * X-Ray tracing, checked for what the SAM schema test cannot see (it validates SAM resources only).
 * When cfn-lint is installed (it runs the SAM translator first), it must accept the whole template.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../local/api.ts';
import { type Json, readTemplate, TemplateResolver } from '../../local/template.ts';

const template = readTemplate();
const resources = template.Resources;
const required = {
  HostedUiDomainPrefix: 'p',
  IdmeClientId: 'a',
  IduraDomain: 'idura.example',
  IduraClientId: 'b',
};
const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** Every metric an alarm reads: [namespace, name, dimension names]. */
function alarmMetrics(properties: Record<string, Json>): Array<[string, string, string[]]> {
  const names = (dims: Json | undefined) =>
    ((dims ?? []) as Array<{ Name: string }>).map((d) => d.Name).sort();
  if (properties.MetricName !== undefined)
    return [[String(properties.Namespace), String(properties.MetricName), names(properties.Dimensions)]];
  return ((properties.Metrics ?? []) as Array<{ MetricStat?: { Metric: Record<string, Json> } }>)
    .filter((m) => m.MetricStat !== undefined)
    .map((m) => {
      const metric = m.MetricStat?.Metric as Record<string, Json>;
      return [String(metric.Namespace), String(metric.MetricName), names(metric.Dimensions)];
    });
}

describe('template.yaml operations', () => {
  it('has the alarms the runbook describes', () => {
    assert.ok(alarms.length >= 12, `only ${alarms.length} alarms`);
    const section = readme.slice(readme.indexOf('## Operating it'));
    assert.ok(readme.includes('## Operating it'), 'README has an "Operating it" section');
    for (const [id] of alarms)
      assert.ok(section.includes(`\`${id}\``), `README "Operating it" explains ${id}`);
  });

  it('notifies the topic only when AlarmEmail is set, and creates the topic only then', () => {
    assert.equal((resources.AlarmTopic as { Condition?: string }).Condition, 'HasAlarmEmail');
    const topic = { 'Fn::If': ['HasAlarmEmail', [{ Ref: 'AlarmTopic' }], { Ref: 'AWS::NoValue' }] };
    for (const [id, alarm] of alarms) {
      assert.deepEqual(alarm.Properties?.AlarmActions, topic, `${id} AlarmActions`);
      assert.deepEqual(alarm.Properties?.OKActions, topic, `${id} OKActions`);
    }
    const without = new TemplateResolver(template, { parameters: required });
    assert.equal(without.condition('HasAlarmEmail'), false);
    assert.equal(without.resource('TriggerErrorsAlarm').Properties.AlarmActions, undefined);
    const withEmail = new TemplateResolver(template, {
      parameters: { ...required, AlarmEmail: 'oncall@example.com' },
    });
    assert.deepEqual(withEmail.resource('TriggerErrorsAlarm').Properties.AlarmActions, ['AlarmTopic']);
  });

  it("filters the broker's own metrics by the stack's service dimension and only low-cardinality dimensions", () => {
    const allowed = new Set([
      'service',
      'route',
      'error',
      'outcome',
      'target',
      'provider',
      'reason',
      'path',
      'cache',
      'decision',
    ]);
    for (const [id, alarm] of alarms) {
      const properties = alarm.Properties as Record<string, Json>;
      for (const [namespace, , dimensions] of alarmMetrics(properties)) {
        if (namespace !== 'FederationBroker') continue;
        assert.ok(dimensions.includes('service'), `${id} filters by service`);
        for (const d of dimensions) assert.ok(allowed.has(d), `${id}: dimension ${d}`);
      }
      const serviceDims = JSON.stringify(properties).match(/"Name":"service","Value":(\{[^}]*\})/g) ?? [];
      for (const dim of serviceDims) assert.match(dim, /"Ref":"AWS::StackName"/, id);
    }
  });

  it('guards rate alarms against a handful of requests (a minimum count in the expression)', () => {
    const rates = alarms.filter(([id]) => id.includes('Rate'));
    assert.equal(rates.filter(([id]) => id.endsWith('ServerErrorRateAlarm')).length, 5, 'one per route');
    for (const [id, alarm] of rates) {
      const returned = (
        (alarm.Properties?.Metrics ?? []) as Array<{ Expression?: string; ReturnData?: boolean }>
      ).find((m) => m.ReturnData === true);
      assert.match(String(returned?.Expression), /^IF\([a-z +]+ >= \d+, /, id);
    }
  });

  it('has one dashboard whose body is valid JSON once substituted, showing every alarm', () => {
    const resolver = new TemplateResolver(template, {
      parameters: required,
      refs: { BrokerApi: 'abc123', PreTokenGenerationFunction: 'broker-trigger' },
    });
    const dashboards = resolver.resourcesOfType('AWS::CloudWatch::Dashboard');
    assert.equal(dashboards.length, 1);
    const body = JSON.parse(String(resolver.resource(dashboards[0] as string).Properties.DashboardBody)) as {
      widgets: Array<{ type: string; properties: { alarms?: string[]; metrics?: unknown[] } }>;
    };
    const shown = body.widgets.flatMap((w) => w.properties.alarms ?? []);
    for (const [id] of alarms)
      assert.ok(
        shown.some((arn) => arn.endsWith(`:${id}`)),
        `dashboard shows ${id}`,
      );
    for (const widget of body.widgets.filter((w) => w.type === 'metric'))
      for (const metric of widget.properties.metrics ?? [])
        assert.ok(Array.isArray(metric), 'each metric is an array');
  });

  it('reads only metrics the functions emit (functions/shared/metrics.ts)', () => {
    const emitter = readFileSync(join(repoRoot, 'functions/shared/metrics.ts'), 'utf8');
    const fromAlarms = alarms.flatMap(([, alarm]) =>
      alarmMetrics(alarm.Properties as Record<string, Json>)
        .filter(([namespace]) => namespace === 'FederationBroker')
        .map(([, name]) => name),
    );
    const resolver = new TemplateResolver(template, { parameters: required });
    const body = JSON.parse(String(resolver.resource('Dashboard').Properties.DashboardBody)) as {
      widgets: Array<{ properties: { metrics?: unknown[][] } }>;
    };
    const fromDashboard = body.widgets.flatMap((w) =>
      (w.properties.metrics ?? []).flatMap((m) => {
        if (m[0] === 'FederationBroker') return [String(m[1])];
        const expression = (m[0] as { expression?: string }).expression ?? '';
        return [...expression.matchAll(/MetricName="(\w+)"/g)].map((x) => x[1] as string);
      }),
    );
    assert.ok(fromAlarms.length >= 5 && fromDashboard.length >= 10, `${fromAlarms} / ${fromDashboard}`);
    for (const name of new Set([...fromAlarms, ...fromDashboard]))
      assert.ok(emitter.includes(`'${name}'`), `metrics.ts emits ${name}`);
  });

  it('keeps X-Ray tracing off unless the Tracing parameter is Active', () => {
    const globals = (parameters: Record<string, string>) =>
      new TemplateResolver(template, { parameters: { ...required, ...parameters } }).resolve(
        template.Globals?.Function as Json,
      ) as Record<string, Json>;
    assert.equal(template.Parameters?.Tracing?.Default, 'Disabled');
    assert.equal(globals({}).Tracing, undefined);
    assert.equal(globals({ Tracing: 'Active' }).Tracing, 'Active');
  });

  const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  it('is accepted by cfn-lint (with the SAM translator)', {
    skip: cfnLint.status !== 0 ? 'cfn-lint is not installed' : false,
  }, () => {
    const run = spawnSync('cfn-lint', [join(repoRoot, 'template.yaml')], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });
});
