import { createMiddleware } from "hono/factory";
import { InvalidJsonError, UnsupportedMediaTypeError } from "../../../shared/errors";
import type { AppEnv } from "../context";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * For routes that take a JSON body: 415 for another content type, 400 with the
 * parser's own message for malformed JSON. Validation of the shape comes after.
 */
export const requireJsonBody = createMiddleware<AppEnv>(async (c, next) => {
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
