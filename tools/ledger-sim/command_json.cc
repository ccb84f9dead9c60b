// tools/ledger-sim/command_json.cc
#include "tools/ledger-sim/command_json.h"

#include <array>
#include <cstdint>
#include <string>

#include <boost/json.hpp>

namespace hpf::sim {

namespace {

namespace json = boost::json;
using namespace hpf::ledger;  // NOLINT: a .cc file that spells every command type

json::array Ids(const std::vector<AccountId>& ids) {
  json::array out;
  for (AccountId id : ids) out.push_back(id.value);
  return out;
}

// One overload per command: a missing one is a compile error (std::visit needs them all).
struct Fields {
  json::object& o;
  void operator()(const RegisterEmployer& c) const {
    o["type"] = "RegisterEmployer";
    o["employer"] = c.employer.value;
    o["unified_social_credit_code"] = c.unified_social_credit_code;
    o["name"] = c.name;
    o["bank_code"] = c.bank_code;
    o["employer_rate_ppm"] = c.employer_rate.value;
    o["employee_rate_ppm"] = c.employee_rate.value;
    o["first_contribution_month"] = c.first_contribution_month;
  }
  void operator()(const ChangeEmployerRates& c) const {
    o["type"] = "ChangeEmployerRates";
    o["employer"] = c.employer.value;
    o["employer_rate_ppm"] = c.employer_rate.value;
    o["employee_rate_ppm"] = c.employee_rate.value;
    o["from_month"] = c.from_month;
  }
  void operator()(const GrantRateReduction& c) const {
    o["type"] = "GrantRateReduction";
    o["employer"] = c.employer.value;
    o["employer_rate_ppm"] = c.employer_rate.value;
    o["employee_rate_ppm"] = c.employee_rate.value;
    o["from_month"] = c.from_month;
    o["to_month"] = c.to_month;
    o["approval_reference"] = c.approval_reference;
  }
  void operator()(const GrantDeferral& c) const {
    o["type"] = "GrantDeferral";
    o["employer"] = c.employer.value;
    o["from_month"] = c.from_month;
    o["to_month"] = c.to_month;
    o["approval_reference"] = c.approval_reference;
  }
  void operator()(const SealEmployer& c) const {
    o["type"] = "SealEmployer";
    o["employer"] = c.employer.value;
    o["reason"] = static_cast<int>(c.reason);
    o["approval_reference"] = c.approval_reference;
  }
  void operator()(const CloseEmployer& c) const {
    o["type"] = "CloseEmployer";
    o["employer"] = c.employer.value;
    o["reason"] = static_cast<int>(c.reason);
    o["approval_reference"] = c.approval_reference;
  }
  void operator()(const ReopenEmployer& c) const {
    o["type"] = "ReopenEmployer";
    o["employer"] = c.employer.value;
    o["first_contribution_month"] = c.first_contribution_month;
  }
  void operator()(const OpenAccount& c) const {
    o["type"] = "OpenAccount";
    o["account"] = c.account.value;
    o["employer"] = c.employer.value;
    o["person_id"] = c.person_id;
    o["contribution_base_fen"] = c.contribution_base.value;
    o["first_contribution_month"] = c.first_contribution_month;
    // Lower-case hex; left out when the registry gave none (all zeros).
    if (c.identity_digest != std::array<uint8_t, 32>{}) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      for (const uint8_t byte : c.identity_digest) {
        hex.push_back(kHex[byte >> 4]);
        hex.push_back(kHex[byte & 0xF]);
      }
      o["identity_digest"] = hex;
    }
  }
  void operator()(const ChangeAccountBase& c) const {
    o["type"] = "ChangeAccountBase";
    o["account"] = c.account.value;
    o["contribution_base_fen"] = c.contribution_base.value;
    o["from_month"] = c.from_month;
  }
  void operator()(const SealAccount& c) const {
    o["type"] = "SealAccount";
    o["account"] = c.account.value;
    o["reason"] = static_cast<int>(c.reason);
  }
  void operator()(const UnsealAccount& c) const {
    o["type"] = "UnsealAccount";
    o["account"] = c.account.value;
    o["employer"] = c.employer.value;
    o["contribution_base_fen"] = c.contribution_base.value;
    o["first_contribution_month"] = c.first_contribution_month;
  }
  void operator()(const FreezeAccount& c) const {
    o["type"] = "FreezeAccount";
    o["account"] = c.account.value;
    o["court_order_reference"] = c.court_order_reference;
    o["authority"] = c.authority;
  }
  void operator()(const UnfreezeAccount& c) const {
    o["type"] = "UnfreezeAccount";
    o["account"] = c.account.value;
    o["court_order_reference"] = c.court_order_reference;
    o["authority"] = c.authority;
  }
  void operator()(const CloseAccount& c) const {
    o["type"] = "CloseAccount";
    o["account"] = c.account.value;
  }
  void operator()(const RecordBankReceipt& c) const {
    o["type"] = "RecordBankReceipt";
    o["employer"] = c.employer.value;
    o["bank_code"] = c.bank_code;
    o["bank_reference"] = c.bank_reference;
    o["amount_fen"] = c.amount.value;
    o["deposit_id"] = c.deposit_id;
  }
  void operator()(const OpenRemittance& c) const {
    o["type"] = "OpenRemittance";
    o["remittance_id"] = c.remittance_id;
    o["employer"] = c.employer.value;
    o["kind"] = c.kind == RemittanceKind::kRegular ? "regular" : "back_payment";
    o["from_month"] = c.from_month;
    o["to_month"] = c.to_month;
    o["accounts_count"] = c.accounts_count;
    o["total_fen"] = c.total.value;
    o["list_reference"] = c.list_reference;
  }
  void operator()(const AllocateContribution& c) const {
    o["type"] = "AllocateContribution";
    o["remittance_id"] = c.remittance_id;
    o["employer"] = c.employer.value;
    o["account"] = c.account.value;
    o["month"] = c.month;
    o["contribution_base_fen"] = c.contribution_base.value;
    o["employer_amount_fen"] = c.employer_amount.value;
    o["employee_amount_fen"] = c.employee_amount.value;
  }
  void operator()(const CompleteRemittance& c) const {
    o["type"] = "CompleteRemittance";
    o["remittance_id"] = c.remittance_id;
    o["employer"] = c.employer.value;
  }
  void operator()(const SettleInterest& c) const {
    o["type"] = "SettleInterest";
    o["interest_year"] = c.interest_year;
    o["accounts"] = Ids(c.accounts);
  }
  void operator()(const ReverseRecord& c) const {
    o["type"] = "ReverseRecord";
    o["position"] = c.position;
    o["reason"] = static_cast<int>(c.reason);
    o["note"] = c.note;
    o["approval_reference"] = c.approval_reference;
  }
  void operator()(const ChangePolicy& c) const {
    o["type"] = "ChangePolicy";
    o["document"] = c.document;  // the policy's JSON text, as a string
    o["effective_from"] = c.effective_from;
    o["summary"] = c.summary;
    o["approval_reference"] = c.approval_reference;
  }
  void operator()(const ApplyWithdrawal& c) const {
    o["type"] = "ApplyWithdrawal";
    o["withdrawal_id"] = c.withdrawal_id;
    o["account"] = c.account.value;
    o["reason"] = static_cast<int>(c.reason);  // the code: 3 retirement, 8 death, ...
    o["payee_reference"] = c.payee_reference;
    o["evidence_reference"] = c.evidence_reference;
  }
  void operator()(const ApproveWithdrawal& c) const {
    o["type"] = "ApproveWithdrawal";
    o["withdrawal_id"] = c.withdrawal_id;
  }
  void operator()(const RejectWithdrawal& c) const {
    o["type"] = "RejectWithdrawal";
    o["withdrawal_id"] = c.withdrawal_id;
    o["reason"] = c.reason;  // the reviewer's sentence
  }
  void operator()(const PayWithdrawal& c) const {
    o["type"] = "PayWithdrawal";
    o["withdrawal_id"] = c.withdrawal_id;
    o["deposit_id"] = c.deposit_id;
    o["bank_code"] = c.bank_code;
    o["bank_reference"] = c.bank_reference;
  }
  void operator()(const CancelWithdrawal& c) const {
    o["type"] = "CancelWithdrawal";
    o["withdrawal_id"] = c.withdrawal_id;
    o["reason"] = c.reason;
  }
};

}  // namespace

std::string CommandToJson(const ledger::Command& command) {
  json::object object;
  std::visit(Fields{object}, command.body);
  object["idempotency_key"] = command.header.idempotency_key;
  object["effective_date"] = command.header.effective_date;
  return json::serialize(object);
}

}  // namespace hpf::sim
