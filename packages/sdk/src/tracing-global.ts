/**
 * The process-wide parts of tracing, installed once however many Vigil instances trace: the
 * AsyncLocalStorage context manager, the W3C propagator, and the node:http instrumentation for
 * outgoing calls. Several instances may live in one process (a service and a sidecar, or tests);
 * a client span belongs to the instance whose span is active where the call is made, which the
 * routing tracer provider reads from the context.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import {
  context,
  createContextKey,
  INVALID_SPAN_CONTEXT,
  propagation,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';

/** What the routing provider needs of an instance. */
export interface TracingHandle {
  readonly tracer: Tracer;
}

/** The context key under which a span's owning instance travels with it. */
export const VIGIL_TRACING_KEY = createContextKey('@vigil/sdk tracing');

let globalsInstalled = false;

/** Installs the context manager and the W3C propagator, unless the application has its own. */
export function installGlobals(): void {
  if (globalsInstalled) return;
  globalsInstalled = true;
  // Both calls refuse (returning false) when something registered first; then that one is used.
  const cm = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(cm)) cm.disable();
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

const handles: TracingHandle[] = [];

/** Picks the instance owning the active span, else the most recently started one. */
function route(ctx: Context): TracingHandle | undefined {
  return (ctx.getValue(VIGIL_TRACING_KEY) as TracingHandle | undefined) ?? handles[handles.length - 1];
}

const routingTracer: Tracer = {
  startSpan(name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    const h = route(ctx);
    return h ? h.tracer.startSpan(name, options, ctx) : trace.wrapSpanContext(trace.getSpanContext(ctx) ?? INVALID_SPAN_CONTEXT);
  },
  startActiveSpan(name: string, ...rest: unknown[]): never {
    const fn = rest.pop() as (span: Span) => unknown;
    const [options, ctx = context.active()] = rest as [SpanOptions | undefined, Context | undefined];
    const span = routingTracer.startSpan(name, options, ctx);
    const h = route(ctx);
    const next = trace.setSpan(ctx, span);
    return context.with(h ? next.setValue(VIGIL_TRACING_KEY, h) : next, fn, undefined, span) as never;
  },
};

/** A tracer provider handing out the routing tracer, for instrumentations and `trace.getTracer()`. */
export const routingTracerProvider: TracerProvider = { getTracer: () => routingTracer };

let instrumentation: HttpInstrumentation | undefined;
let httpUsers = 0;

function enableHttp(): void {
  if (httpUsers++ > 0) return;
  if (instrumentation) {
    // Patched again in place: require-in-the-middle caches a module once patched, so the same
    // instrumentation is re-enabled rather than a new one registered.
    instrumentation.enable();
  } else {
    // Client spans in the stable HTTP conventions, like the SDK's server spans (`http.request.method`,
    // `http.response.status_code`), unless the application chose otherwise; the instrumentation
    // reads the choice from the environment once, when constructed.
    const env = process.env;
    const chosen = env['OTEL_SEMCONV_STABILITY_OPT_IN'];
    if (chosen === undefined) env['OTEL_SEMCONV_STABILITY_OPT_IN'] = 'http';
    try {
      instrumentation = new HttpInstrumentation({
        disableIncomingRequestInstrumentation: true,
        // Only calls made while a span is active: background calls (and the exporter's own) stay untraced.
        requireParentforOutgoingSpans: true,
      });
    } finally {
      if (chosen === undefined) delete env['OTEL_SEMCONV_STABILITY_OPT_IN'];
    }
    registerInstrumentations({ instrumentations: [instrumentation], tracerProvider: routingTracerProvider });
    // The patch is applied when http is next required.
    const require = createRequire(import.meta.url);
    require('http');
    require('https');
  }
  // ES module named imports of a builtin see a patch only after this.
  syncBuiltinESMExports();
}

function disableHttp(): void {
  if (--httpUsers > 0) return;
  instrumentation?.disable();
  syncBuiltinESMExports();
}

/**
 * Adds `h` to the instances that own spans; with `http`, also enables the instrumentation of
 * outgoing node:http/https calls (incoming requests get their server span from the SDK's
 * middleware, so they are not instrumented twice). Returns the release function; the last
 * release of the instrumentation disables it.
 */
export function acquireTracing(h: TracingHandle, http: boolean): () => void {
  installGlobals();
  handles.push(h);
  if (http) enableHttp();
  trace.setGlobalTracerProvider(routingTracerProvider);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const i = handles.indexOf(h);
    if (i !== -1) handles.splice(i, 1);
    if (http) disableHttp();
  };
}
