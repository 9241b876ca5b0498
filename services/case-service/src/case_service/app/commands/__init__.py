"""Commands: what a caller asks the case service to do (imperative names)."""

from case_service.app.commands.base import CaseCommand, Command
from case_service.app.commands.follow_up import (
    CancelDialogueMeeting,
    CreateFollowUpPlan,
    HoldDialogueMeeting,
    HoldFollowUpConversation,
    RecordDoctorConsent,
    RecordMeetingException,
    RequestDialogueMeeting,
    ReviseFollowUpPlan,
    ScheduleDialogueMeeting,
    ShareFollowUpPlan,
)
from case_service.app.commands.lifecycle import (
    CloseCase,
    OpenCase,
    ReassignManager,
    ReopenCase,
    ReturnToWork,
    WaiveObligation,
)
from case_service.app.commands.measures import (
    AssessActivityRequirement,
    DecideEmploymentReview,
    DecideExpertAssistance,
    EvaluateAdjustment,
    RecordAapApplication,
    RecordAdjustment,
    RecordParticipationIssue,
    RequestExpertAssistance,
)
from case_service.app.commands.privacy import PlaceLegalHold, SetRetentionPolicy
from case_service.app.commands.records import (
    RestoreSelfCertification,
    SetCasePolicy,
    WithdrawSelfCertification,
)
from case_service.app.commands.sick_leave import (
    CancelSickNote,
    ChangeGrading,
    CorrectSickNote,
    ExtendSickNote,
    ReceiveSickNote,
    RegisterSelfCertification,
)

__all__ = [
    "AssessActivityRequirement",
    "CancelDialogueMeeting",
    "CancelSickNote",
    "CaseCommand",
    "ChangeGrading",
    "CloseCase",
    "Command",
    "CorrectSickNote",
    "CreateFollowUpPlan",
    "DecideEmploymentReview",
    "DecideExpertAssistance",
    "EvaluateAdjustment",
    "ExtendSickNote",
    "HoldDialogueMeeting",
    "HoldFollowUpConversation",
    "OpenCase",
    "PlaceLegalHold",
    "ReassignManager",
    "ReceiveSickNote",
    "RecordAapApplication",
    "RecordAdjustment",
    "RecordDoctorConsent",
    "RecordMeetingException",
    "RecordParticipationIssue",
    "RegisterSelfCertification",
    "ReopenCase",
    "RequestDialogueMeeting",
    "RequestExpertAssistance",
    "RestoreSelfCertification",
    "ReturnToWork",
    "ReviseFollowUpPlan",
    "ScheduleDialogueMeeting",
    "SetCasePolicy",
    "SetRetentionPolicy",
    "ShareFollowUpPlan",
    "WaiveObligation",
    "WithdrawSelfCertification",
]
