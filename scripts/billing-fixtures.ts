/**
 * Regenerates the provider fixtures in tests/support/billing-fixtures/ from the providers' own published material:
 *
 *   npx tsx scripts/billing-fixtures.ts <stripe fixtures3.json> <polar openapi.json>
 *
 * - Stripe: the objects of `openapi/fixtures3.json` (github.com/stripe/openapi), copied verbatim.
 * - Polar: one instance of each schema of `docs/openapi/<version>.openapi.json` (github.com/polarsource/polar),
 *   built from the schema alone: every required property, `examples`/`const`/`enum` values where the schema gives
 *   them, `null` for nullable properties, deterministic ids and times. Every property is written (Polar serialises
 *   optional fields too); nothing is trimmed.
 *
 * The tests' builders (tests/support/billing.ts) start from these files and set only the values a scenario needs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const OUT = path.join(import.meta.dirname, "..", "tests", "support", "billing-fixtures");
const STRIPE_RESOURCES = ["subscription", "invoice", "invoice_payment", "charge", "refund", "payment_intent", "event"];
const POLAR_SCHEMAS = [
  "Subscription",
  "Order",
  "OrderSubscription",
  "OrderProduct",
  "Refund",
  "Customer",
  "CustomerSession",
  "Checkout",
];

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  const?: unknown;
  enum?: unknown[];
  examples?: unknown[];
  default?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  discriminator?: unknown;
};

function main(): void {
  const [stripeFixturesPath, polarOpenApiPath] = process.argv.slice(2);
  if (!stripeFixturesPath || !polarOpenApiPath) {
    console.error("usage: npx tsx scripts/billing-fixtures.ts <stripe fixtures3.json> <polar openapi.json>");
    process.exit(2);
  }
  const stripe = JSON.parse(readFileSync(stripeFixturesPath, "utf8")) as { resources: Record<string, unknown> };
  mkdirSync(path.join(OUT, "stripe"), { recursive: true });
  for (const name of STRIPE_RESOURCES) {
    const resource = stripe.resources[name];
    if (!resource) throw new Error(`Stripe fixtures have no ${name}.`);
    write(path.join("stripe", `${name}.json`), resource);
  }

  const polar = JSON.parse(readFileSync(polarOpenApiPath, "utf8")) as {
    info: { version: string };
    components: { schemas: Record<string, Schema> };
  };
  const generator = new InstanceGenerator(polar.components.schemas);
  mkdirSync(path.join(OUT, "polar"), { recursive: true });
  for (const name of POLAR_SCHEMAS) write(path.join("polar", `${name}.json`), generator.instanceOf(name));
  console.log(
    `Wrote ${STRIPE_RESOURCES.length} Stripe and ${POLAR_SCHEMAS.length} Polar (${polar.info.version}) fixtures.`,
  );
}

class InstanceGenerator {
  private ids = 0;
  constructor(private readonly schemas: Record<string, Schema>) {}

  instanceOf(name: string): unknown {
    const schema = this.schemas[name];
    if (!schema) throw new Error(`Polar's OpenAPI has no ${name} schema.`);
    return this.value(schema, 0);
  }

  private value(schema: Schema, depth: number): unknown {
    if (schema.$ref) return this.value(this.resolve(schema.$ref), depth);
    if (schema.const !== undefined) return schema.const;
    if (schema.examples && schema.examples.length > 0) return schema.examples[0];
    const variants = schema.anyOf ?? schema.oneOf;
    if (variants) {
      // Documented as nullable: a fresh object has nothing there yet.
      if (variants.some((variant) => variant.type === "null")) return null;
      const first = variants[0];
      return first ? this.value(first, depth) : null;
    }
    if (schema.allOf?.[0]) return this.value(schema.allOf[0], depth);
    if (schema.enum && schema.enum.length > 0) return schema.enum[0];
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
    switch (type) {
      case "object":
        return this.object(schema, depth);
      case "array":
        return depth < 4 && schema.items ? [this.value(schema.items, depth + 1)] : [];
      case "integer":
      case "number":
        return typeof schema.default === "number" ? schema.default : 0;
      case "boolean":
        return typeof schema.default === "boolean" ? schema.default : false;
      case "string":
        return this.string(schema);
      default:
        return schema.properties ? this.object(schema, depth) : null;
    }
  }

  private object(schema: Schema, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (depth > 8) return out;
    for (const [key, property] of Object.entries(schema.properties ?? {})) out[key] = this.value(property, depth + 1);
    return out;
  }

  private string(schema: Schema): string {
    if (typeof schema.default === "string") return schema.default;
    switch (schema.format) {
      case "uuid":
      case "uuid4":
        return `00000000-0000-4000-8000-${String(++this.ids).padStart(12, "0")}`;
      case "date-time":
        return "2026-10-01T12:00:00Z";
      case "email":
        return "payer@example.com";
      case "uri":
        return "https://example.com";
      default:
        return "string";
    }
  }

  private resolve(ref: string): Schema {
    const name = ref.replace("#/components/schemas/", "");
    const schema = this.schemas[name];
    if (!schema) throw new Error(`Unresolved reference ${ref}.`);
    return schema;
  }
}

function write(relative: string, value: unknown): void {
  writeFileSync(path.join(OUT, relative), `${JSON.stringify(value, null, 2)}\n`);
}

main();
