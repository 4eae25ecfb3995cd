/* The reply keys the dialog renders, in one table (internal to src/dialog
 * and its tests). Every key the code uses is an entry here, so the table is
 * the complete list a pack must define (docs/dialog.md), and the tests check
 * both shipped packs against it.
 *
 * X(id, "key", group): group COMMON keys are used by every pack, RETAIL keys
 * by the reorder / order status / search intents, CAFE keys by orderDrink. */
#ifndef VC_DIALOG_KEYS_H
#define VC_DIALOG_KEYS_H

#define VC_DIALOG_KEY_GROUP_COMMON 1
#define VC_DIALOG_KEY_GROUP_RETAIL 2
#define VC_DIALOG_KEY_GROUP_CAFE 4

#define VC_DIALOG_REPLY_KEYS(X)                                                \
    X(R_GREETING, "greeting", VC_DIALOG_KEY_GROUP_COMMON)                      \
    X(R_NOT_UNDERSTOOD, "not_understood", VC_DIALOG_KEY_GROUP_COMMON)          \
    X(R_NOT_UNDERSTOOD_AGAIN, "not_understood_again", VC_DIALOG_KEY_GROUP_COMMON) \
    X(R_NOTHING_TO_REPEAT, "nothing_to_repeat", VC_DIALOG_KEY_GROUP_COMMON)    \
    X(R_HELP_START, "help_start", VC_DIALOG_KEY_GROUP_COMMON)                  \
    X(R_HELP_CONFIRM, "help_confirm", VC_DIALOG_KEY_GROUP_COMMON)              \
    X(R_HELP_PIN, "help_pin", VC_DIALOG_KEY_GROUP_COMMON)                      \
    X(R_YES_NOTHING_PENDING, "yes_nothing_pending", VC_DIALOG_KEY_GROUP_COMMON) \
    X(R_NO_NOTHING_PENDING, "no_nothing_pending", VC_DIALOG_KEY_GROUP_COMMON)  \
    X(R_NUMBER_UNEXPECTED, "number_unexpected", VC_DIALOG_KEY_GROUP_COMMON)    \
    X(R_DECLINED, "declined", VC_DIALOG_KEY_GROUP_COMMON)                      \
    X(R_CANCELLED, "cancelled", VC_DIALOG_KEY_GROUP_COMMON)                    \
    X(R_HANDOVER, "handover", VC_DIALOG_KEY_GROUP_COMMON)                      \
    X(R_PIN_ASK, "pin_ask", VC_DIALOG_KEY_GROUP_COMMON)                        \
    X(R_PIN_WRONG, "pin_wrong", VC_DIALOG_KEY_GROUP_COMMON)                    \
    X(R_PIN_CANCELLED, "pin_cancelled", VC_DIALOG_KEY_GROUP_COMMON)            \
    X(R_SPEND_LIMIT, "spend_limit", VC_DIALOG_KEY_GROUP_COMMON)                \
    X(R_PRICE_CHANGED, "price_changed", VC_DIALOG_KEY_GROUP_COMMON)            \
    X(R_ORDER_PLACED, "order_placed", VC_DIALOG_KEY_GROUP_COMMON)              \
    X(R_ORDER_QUEUED, "order_queued", VC_DIALOG_KEY_GROUP_COMMON)              \
    X(R_WORD_AND, "word_and", VC_DIALOG_KEY_GROUP_COMMON)                      \
    X(R_REORDER_HISTORY, "reorder_history", VC_DIALOG_KEY_GROUP_RETAIL)        \
    X(R_REORDER_NEW, "reorder_new", VC_DIALOG_KEY_GROUP_RETAIL)                \
    X(R_CONFIRM_ORDER, "confirm_order", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_REORDER_WHICH_PRODUCT, "reorder_which_product", VC_DIALOG_KEY_GROUP_RETAIL) \
    X(R_PRODUCT_UNKNOWN, "product_unknown", VC_DIALOG_KEY_GROUP_RETAIL)        \
    X(R_WHICH_PRODUCT_2, "which_product_2", VC_DIALOG_KEY_GROUP_RETAIL)        \
    X(R_WHICH_PRODUCT_3, "which_product_3", VC_DIALOG_KEY_GROUP_RETAIL)        \
    X(R_CHOICE_ITEM, "choice_item", VC_DIALOG_KEY_GROUP_RETAIL)                \
    X(R_SEARCH_ITEM, "search_item", VC_DIALOG_KEY_GROUP_RETAIL)                \
    X(R_ORDINAL_1, "ordinal_1", VC_DIALOG_KEY_GROUP_RETAIL)                    \
    X(R_ORDINAL_2, "ordinal_2", VC_DIALOG_KEY_GROUP_RETAIL)                    \
    X(R_ORDINAL_3, "ordinal_3", VC_DIALOG_KEY_GROUP_RETAIL)                    \
    X(R_SEARCH_ONE, "search_one", VC_DIALOG_KEY_GROUP_RETAIL)                  \
    X(R_SEARCH_RESULTS_2, "search_results_2", VC_DIALOG_KEY_GROUP_RETAIL)      \
    X(R_SEARCH_RESULTS_3, "search_results_3", VC_DIALOG_KEY_GROUP_RETAIL)      \
    X(R_NO_RESULTS, "no_results", VC_DIALOG_KEY_GROUP_RETAIL)                  \
    X(R_NO_RESULTS_WIDEN_PRICE, "no_results_widen_price", VC_DIALOG_KEY_GROUP_RETAIL) \
    X(R_NO_RESULTS_WIDEN_ATTRIBUTES, "no_results_widen_attributes", VC_DIALOG_KEY_GROUP_RETAIL) \
    X(R_OUT_OF_STOCK, "out_of_stock", VC_DIALOG_KEY_GROUP_RETAIL)              \
    X(R_ONLY_IN_STOCK, "only_in_stock", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_STOCK_RAN_OUT, "stock_ran_out", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_NO_ALTERNATIVES, "no_alternatives", VC_DIALOG_KEY_GROUP_RETAIL)        \
    X(R_CHOICE_INVALID, "choice_invalid", VC_DIALOG_KEY_GROUP_RETAIL)          \
    X(R_CHOOSE_PROMPT, "choose_prompt", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_NOTHING_TO_CHOOSE, "nothing_to_choose", VC_DIALOG_KEY_GROUP_RETAIL)    \
    X(R_ASK_QUANTITY, "ask_quantity", VC_DIALOG_KEY_GROUP_RETAIL)              \
    X(R_QUANTITY_INVALID, "quantity_invalid", VC_DIALOG_KEY_GROUP_RETAIL)      \
    X(R_QUANTITY_CAP, "quantity_cap", VC_DIALOG_KEY_GROUP_RETAIL)              \
    X(R_QUANTITY_NOTHING_PENDING, "quantity_nothing_pending", VC_DIALOG_KEY_GROUP_RETAIL) \
    X(R_ORDER_STATUS, "order_status", VC_DIALOG_KEY_GROUP_RETAIL)              \
    X(R_ORDER_UNKNOWN, "order_unknown", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_NO_ORDERS, "no_orders", VC_DIALOG_KEY_GROUP_RETAIL)                    \
    X(R_STATUS_PLACED, "status_placed", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_STATUS_PACKED, "status_packed", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_STATUS_SHIPPED, "status_shipped", VC_DIALOG_KEY_GROUP_RETAIL)          \
    X(R_STATUS_DELIVERED, "status_delivered", VC_DIALOG_KEY_GROUP_RETAIL)      \
    X(R_STATUS_CANCELLED, "status_cancelled", VC_DIALOG_KEY_GROUP_RETAIL)      \
    X(R_STATUS_QUEUED, "status_queued", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_HELP_CHOOSE, "help_choose", VC_DIALOG_KEY_GROUP_RETAIL)                \
    X(R_HELP_QUANTITY, "help_quantity", VC_DIALOG_KEY_GROUP_RETAIL)            \
    X(R_HELP_OFFER, "help_offer", VC_DIALOG_KEY_GROUP_RETAIL)                  \
    X(R_ASK_DRINK, "ask_drink", VC_DIALOG_KEY_GROUP_CAFE)                      \
    X(R_CAFE_CONFIRM, "cafe_confirm", VC_DIALOG_KEY_GROUP_CAFE)                \
    X(R_CAFE_CONFIRM_MANY, "cafe_confirm_many", VC_DIALOG_KEY_GROUP_CAFE)      \
    X(R_DRINK_QUANTITY_CAP, "drink_quantity_cap", VC_DIALOG_KEY_GROUP_CAFE)    \
    X(R_DRINK_UNAVAILABLE, "drink_unavailable", VC_DIALOG_KEY_GROUP_CAFE)      \
    X(R_DRINK_SOLD_OUT, "drink_sold_out", VC_DIALOG_KEY_GROUP_CAFE)            \
    X(R_HELP_DRINK, "help_drink", VC_DIALOG_KEY_GROUP_CAFE)

typedef enum {
#define VC_DIALOG_KEY_ENUM(id, key, group) id,
    VC_DIALOG_REPLY_KEYS(VC_DIALOG_KEY_ENUM)
#undef VC_DIALOG_KEY_ENUM
    VC_DIALOG_N_REPLY_KEYS
} vc_dialog_reply_key;

#endif
