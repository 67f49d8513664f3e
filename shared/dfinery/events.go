package dfinery

// DefaultEventTypes maps DFINERY's standard event names to our (MCM) event
// types. Where the names come from:
//   - DFINERY's own events carry the "abx:" prefix (help.dfinery.io,
//     "Definition and understanding of DFINERY Event"); the names of the
//     commerce events are the constants of DFINERY's (formerly AdBrix) SDK
//     plugins, class ABEvent: abx:purchase, abx:add_to_cart,
//     abx:add_to_wishlist, abx:product_view, abx:search, abx:view_home, ...
//   - The newer DFINERY SDK names them with a "df_" prefix
//     (docs.dfinery.ai developer guide, "Event", class DFEvent):
//     df_purchase, df_add_to_cart, df_view_product_details, ...
//   - help.dfinery.io "Type information" lists "purchase" bare.
//
// abx:sign_up / abx:login (df_sign_up / df_login) have no MCM event type,
// so ingest cannot record them under one of their own; an app that sends
// its sign-ups or logins to ingest as some type maps them with
// VERIFY_EVENT_MAP (e.g. abx:sign_up=LAND), and they are then matched by
// user id. Names compare in lower case.
var DefaultEventTypes = map[string]string{
	"abx:purchase":            "PURCHASE",
	"df_purchase":             "PURCHASE",
	"purchase":                "PURCHASE",
	"abx:add_to_cart":         "ADD_TO_CART",
	"df_add_to_cart":          "ADD_TO_CART",
	"abx:add_to_wishlist":     "ADD_TO_WISHLIST",
	"df_add_to_wishlist":      "ADD_TO_WISHLIST",
	"abx:product_view":        "ITEM_PAGE_VIEW",
	"df_view_product_details": "ITEM_PAGE_VIEW",
	"abx:search":              "SEARCH",
	"df_view_search_result":   "SEARCH",
	"abx:view_home":           "HOME",
	"df_view_home":            "HOME",
}

// DefaultOrderIDKey is the param_json key of a purchase's order id:
// ABEventProperty.ORDER_ID of DFINERY's SDK plugins ("order_id" in
// help.dfinery.io "Type information", "df_order_id" in the newer SDK; both
// are tried after it).
const DefaultOrderIDKey = "abx:order_id"
