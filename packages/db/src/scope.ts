// Who a scoped query runs for: the caller of a management request as the JWT names them. Every
// lookup of the management API takes it, so a query can only see the caller's network and,
// for advertiser and publisher users, only their own records.

import { ApiError, type UserRole } from "@afftrack/core";

export interface CallerScope {
  tenant_id: string;
  role: UserRole;
  advertiser_id: string | null;
  publisher_id: string | null;
}

export function roleForbidden(): ApiError {
  return new ApiError("FORBIDDEN", "Your role may not do this");
}
