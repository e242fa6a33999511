package console

import "github.com/psasync/psasync/worker"

// remedies says what an operator can do about each error and warning code
// of the run report (DESIGN.md's codes and psasync's additions).
var remedies = map[string]string{
	worker.CodeContactCreationFailed: "The PSA refused the new contact. Read the PSA's answer: usually a required field is empty or too long for the PSA, or the company does not accept contacts. Fix the field mapping or the user in Microsoft 365, then run again.",
	worker.CodeContactUpdateFailed:   "The PSA refused the change. Read the PSA's answer: a field may be read-only, too long, or the contact was merged or deleted in the PSA. Fix it there (or the mapping), then run again.",
	worker.CodeDuplicateContact:      "Several PSA contacts share the user's email, or the email belongs to a contact linked to another user. psasync does not guess: merge or fix the duplicates in the PSA, or resolve the conflict (link one contact, or ignore the user).",
	worker.CodeMissingCompanyID:      "psasync does not know which PSA company the user belongs to. Set the tenant's psa_default_company_id, or map the user's email domain in domain_companies.",
	worker.CodeInvalidFieldMapping:   "A mapping rule produced a value the contact cannot take. Check the mapping section of the config (field templates and canonical names) and reload.",
	worker.CodePermissionDenied:      "Graph or the PSA refused psasync's credentials. In Entra, check the app's admin consent (User.Read.All); in the PSA, check the API member's security role. Then run again.",
	worker.CodeUserDataIncomplete:    "The user lacks data a contact needs (usually a mail address or a name). Fill it in Microsoft 365, or exclude the user with a scope filter.",
	worker.CodePSAConnectionError:    "The PSA did not answer or throttled psasync past its wait budget. Check the PSA's status and the quota on the overview; the next run retries.",
	worker.CodeUnknownTenant:         "The job names a tenant that is no longer configured. Nothing to do unless the tenant was removed by mistake; add it back to the config.",
	worker.CodeGraphError:            "Microsoft Graph was unavailable or throttled past the wait budget. The next run retries; if it persists, check Microsoft 365's service health.",
	worker.WarnMissingPhoneNumber:    "The user has no phone number in Microsoft 365; the contact was written without one. Add it there if the PSA needs it.",
	worker.WarnDeactivationGuard:     "The run would have deactivated more than the allowed share of a company's contacts, so it deactivated none. Check why so many users left scope; approve the held batch if it is right.",
	worker.WarnDeltaReset:            "The stored delta link was unusable, so the run read the whole tenant. Nothing to do.",
	worker.WarnCompanyChanged:        "The user now maps to another PSA company than the linked contact's. psasync leaves the contact where it is: move it in the PSA if that is right.",
	worker.WarnThrottled:             "The PSA or Graph asked psasync to wait; the run waited and continued. Frequent throttling means the quota is too tight or shared with other integrations.",
	worker.WarnUserCountUnavailable:  "Graph could not count the tenant's users, so total_office365_users is 0. Nothing else is affected.",
}

// remedy is the advice for code ("" when psasync has none).
func remedy(code string) string { return remedies[code] }
