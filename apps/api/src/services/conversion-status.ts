// The answer to a conversion status change, the same from the API-key route and the dashboard's:
// the refusals in the envelope, the conversion.updated fan-out after a change, and the wire data.

import { ApiError, type ConversionStatusData, successBody } from "@afftrack/core";
import type { StatusChangeResult } from "@afftrack/db";
import type { AppContext } from "../context";
import { fanOutConversion } from "./fanout";

export function answerStatusChange(c: AppContext, result: StatusChangeResult): Response {
  if (result.kind === "not_found") throw new ApiError("NOT_FOUND", "Conversion not found");
  if (result.kind === "ip_not_allowed") {
    throw new ApiError("IP_NOT_ALLOWED", "Client IP is not in the offer's postback allowlist");
  }
  if (result.kind === "invalid_transition") {
    throw new ApiError("CONFLICT", `A ${result.from} conversion cannot become ${result.to}`);
  }
  if (result.kind === "changed") {
    fanOutConversion(c, {
      type: "conversion.updated",
      conversion_id: result.id,
      status: result.to,
      previous_status: result.from,
    });
  }
  const [previous, status] =
    result.kind === "unchanged" ? [result.status, result.status] : [result.from, result.to];
  const data: ConversionStatusData = {
    conversion_id: result.id,
    transaction_id: result.transaction_id,
    previous_status: previous,
    status,
  };
  return c.json(successBody(data, "Conversion status updated"));
}
