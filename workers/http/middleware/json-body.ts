import { createMiddleware } from "hono/factory";
import { InvalidJsonError, UnsupportedMediaTypeError } from "../../../shared/errors";
import type { AppEnv } from "../context";
import { handlerRoute } from "../matched-route";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * JSON API bodies: 415 for another content type, 400 with the parser's own
 * message for malformed JSON. Requests without a body pass; zod validates shape later.
 */
export const requireJsonBody = createMiddleware<AppEnv>(async (c, next) => {
  if (!METHODS_WITH_BODY.has(c.req.method) || !hasBody(c.req.raw) || handlerRoute(c) === null) return next();
  const contentType = c.req.header("content-type");
  const mediaType = contentType?.split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) throw new UnsupportedMediaTypeError("application/json", contentType);
  const text = await c.req.text();
  try {
    JSON.parse(text);
  } catch (error) {
    throw new InvalidJsonError(error instanceof Error ? error.message : String(error));
  }
  await next();
});

function hasBody(request: Request): boolean {
  const length = request.headers.get("content-length");
  if (length !== null) return Number(length) > 0;
  return request.body !== null;
}
