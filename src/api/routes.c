/* The route table — method, path pattern, handler, the least role allowed, body cap, where it runs —
 * and the dispatcher that authenticates, checks the role and calls the handler. */
#include <string.h>

#include "api/api.h"
#include "base/log.h"

#define PUBLIC 0
#define VIEWER ROLE_VIEWER
#define CASHIER ROLE_CASHIER
#define ADMIN ROLE_ADMIN

#define INLINE ROUTE_INLINE
#define POOLED ROUTE_POOLED
#define DEFER ROUTE_DEFERRABLE /* the handler keeps its context in the arena */

const struct route api_routes[] = {
	{ "GET", "/healthz", api_healthz, PUBLIC, 0, INLINE, 0 },
	{ "GET", "/readyz", api_readyz, PUBLIC, 0, INLINE, 0 },
	{ "GET", "/metrics", api_metrics, PUBLIC, 0, INLINE, 0 },

	/* The PassKit web service (Apple's paths under webServiceURL) and the pass download link. */
	{ "POST", "/passkit/v1/devices/{device}/registrations/{passType}/{serial}",
	  api_passkit_register, PUBLIC, API_BODY_PASSKIT_REGISTER, POOLED, 0 },
	{ "DELETE", "/passkit/v1/devices/{device}/registrations/{passType}/{serial}",
	  api_passkit_unregister, PUBLIC, 0, POOLED, 0 },
	{ "GET", "/passkit/v1/devices/{device}/registrations/{passType}", api_passkit_updated,
	  PUBLIC, 0, POOLED, 0 },
	{ "GET", "/passkit/v1/passes/{passType}/{serial}", api_passkit_pass, PUBLIC, 0, POOLED, 0 },
	{ "POST", "/passkit/v1/log", api_passkit_log, PUBLIC, API_BODY_PASSKIT_LOG, POOLED, 0 },
	{ "GET", "/passes/{link}", api_pass_download, PUBLIC, 0, POOLED, 0 },
	{ "GET", "/google/save/{link}", api_google_save, PUBLIC, 0, POOLED, 0 },
	{ "GET", "/wallet/logo/{file}", api_wallet_logo, PUBLIC, 0, POOLED, 0 },
	{ "POST", "/google/callback", api_google_callback, PUBLIC, API_BODY_MEDIUM, POOLED, 0 },

	{ "POST", "/api/v1/auth/login", api_login, PUBLIC, API_BODY_SMALL, POOLED, 0 },
	{ "POST", "/api/v1/auth/logout", api_logout, VIEWER, API_BODY_SMALL, POOLED, 0 },
	{ "GET", "/api/v1/auth/me", api_me, VIEWER, 0, INLINE, 0 },
	{ "POST", "/api/v1/auth/token", api_token, PUBLIC, API_BODY_SMALL, POOLED, 0 },
	{ "POST", "/api/v1/register", api_register, PUBLIC, API_BODY_MEDIUM, DEFER, 0 },

	{ "GET", "/api/v1/customers", api_customers_list, VIEWER, 0, INLINE, 0 },
	{ "POST", "/api/v1/customers", api_customers_create, CASHIER, API_BODY_MEDIUM, DEFER, 0 },
	{ "GET", "/api/v1/customers/{id}", api_customer_get, VIEWER, 0, INLINE, 0 },
	{ "PATCH", "/api/v1/customers/{id}", api_customer_patch, ADMIN, API_BODY_MEDIUM, POOLED,
	  0 },
	{ "DELETE", "/api/v1/customers/{id}", api_customer_delete, ADMIN, 0, POOLED, 0 },
	{ "POST", "/api/v1/customers/{id}/wallet/google/messages", api_google_message, ADMIN,
	  API_BODY_SMALL, POOLED, 0 },
	{ "GET", "/api/v1/customers/{id}/transactions", api_transactions_list, VIEWER, 0, INLINE,
	  0 },
	{ "POST", "/api/v1/customers/{id}/transactions", api_transactions_create, CASHIER,
	  API_BODY_SMALL, DEFER, 0 },
	{ "POST", "/api/v1/transactions/{id}/reverse", api_transaction_reverse, ADMIN,
	  API_BODY_SMALL, DEFER, 0 },
	{ "GET", "/api/v1/cards/{cardNumber}", api_card_get, CASHIER, 0, INLINE, 0 },
	{ "POST", "/api/v1/pos/purchase", api_pos_purchase, CASHIER, API_BODY_SMALL, DEFER, 0 },

	{ "GET", "/api/v1/templates", api_templates_list, VIEWER, 0, INLINE, 0 },
	{ "POST", "/api/v1/templates", api_templates_create, ADMIN, API_BODY_LARGE, POOLED, 0 },
	{ "GET", "/api/v1/templates/{id}", api_template_get, VIEWER, 0, INLINE, 0 },
	{ "PATCH", "/api/v1/templates/{id}", api_template_patch, ADMIN, API_BODY_LARGE, POOLED, 0 },
	{ "DELETE", "/api/v1/templates/{id}", api_template_delete, ADMIN, 0, POOLED, 0 },
	{ "GET", "/api/v1/templates/{id}/images", api_template_images_list, VIEWER, 0, INLINE, 0 },
	{ "GET", "/api/v1/templates/{id}/images/{name}", api_template_image_get, VIEWER, 0, POOLED,
	  0 },
	{ "PUT", "/api/v1/templates/{id}/images/{name}", api_template_image_put, ADMIN,
	  API_BODY_IMAGE, POOLED, 0 },
	{ "DELETE", "/api/v1/templates/{id}/images/{name}", api_template_image_delete, ADMIN, 0,
	  POOLED, 0 },

	{ "GET", "/api/v1/locations", api_locations_list, VIEWER, 0, INLINE, 0 },
	{ "POST", "/api/v1/locations", api_locations_create, ADMIN, API_BODY_MEDIUM, POOLED, 0 },
	{ "GET", "/api/v1/locations/{id}", api_location_get, VIEWER, 0, INLINE, 0 },
	{ "PATCH", "/api/v1/locations/{id}", api_location_patch, ADMIN, API_BODY_MEDIUM, POOLED,
	  0 },
	{ "DELETE", "/api/v1/locations/{id}", api_location_delete, ADMIN, 0, POOLED, 0 },

	{ "GET", "/api/v1/settings", api_settings_get, VIEWER, 0, INLINE, 0 },
	{ "PUT", "/api/v1/settings", api_settings_put, ADMIN, API_BODY_MEDIUM, POOLED, 0 },

	{ "GET", "/api/v1/users", api_users_list, ADMIN, 0, INLINE, 0 },
	{ "POST", "/api/v1/users", api_users_create, ADMIN, API_BODY_SMALL, POOLED, 0 },
	{ "GET", "/api/v1/users/{id}", api_user_get, ADMIN, 0, INLINE, 0 },
	{ "PATCH", "/api/v1/users/{id}", api_user_patch, ADMIN, API_BODY_SMALL, POOLED, 0 },
	{ "DELETE", "/api/v1/users/{id}", api_user_delete, ADMIN, 0, POOLED, 0 },
	{ "GET", "/api/v1/apikeys", api_apikeys_list, ADMIN, 0, INLINE, 0 },
	{ "POST", "/api/v1/apikeys", api_apikeys_create, ADMIN, API_BODY_SMALL, POOLED, 0 },
	{ "DELETE", "/api/v1/apikeys/{id}", api_apikey_delete, ADMIN, 0, POOLED, 0 },

	{ "GET", "/api/v1/customers/{id}/wallet", api_customer_wallet_get, VIEWER, 0, INLINE, 0 },
	{ "POST", "/api/v1/customers/{id}/wallet/apple/link", api_customer_wallet_link_rotate,
	  ADMIN, API_BODY_SMALL, DEFER, 0 },
	{ "GET", "/api/v1/wallet/status", api_wallet_status, ADMIN, 0, INLINE, 0 },
	{ "GET", "/api/v1/wallet/apple/logs", api_wallet_apple_logs, ADMIN, 0, INLINE, 0 },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

void api_dispatch(struct http_request *req, struct http_response *res)
{
	const struct route *r = req->route;
	const char *message = NULL;
	enum loy_err err;

	if (!r) {
		if (req->match == ROUTE_NO_METHOD) {
			char *allow = arena_alloc(&req->arena, 64);
			if (allow) {
				router_allowed(api_routes, api_nroutes, req->path, allow, 64);
				http_set_header(res, "Allow", allow);
			}
			api_error(res, LOY_EMETHOD, NULL, NULL);
		} else
			api_error(res, LOY_ENOTFOUND, NULL, "no such endpoint");
		return;
	}
	if (r->min_role != PUBLIC) {
		err = api_authenticate(req, &message);
		if (err != LOY_OK) {
			api_error(res, err, NULL, message);
			return;
		}
		if (!role_allows(api_principal(req)->role, (enum role)r->min_role)) {
			api_error(res, LOY_EFORBIDDEN, NULL, "your role may not do this");
			return;
		}
	}
	r->handler(req, res);
}
