"""Value sets from the source documents, shared by the schema (CHECK constraints) and the
generators, so the two can never disagree."""

from __future__ import annotations

CAMERA_STATUSES = ("online", "offline", "error")
MEMBER_ROLES = ("owner", "spouse", "child", "relative", "caregiver", "pet")
SEVERITIES = ("low", "medium", "high", "critical")
RISK_LEVELS = SEVERITIES
# fixed score bands: risk_level is a function of risk_score
RISK_BANDS = ((0, 29, "low"), (30, 59, "medium"), (60, 84, "high"), (85, 100, "critical"))

# 000's zone types, which the data uses, and 003's enum (entry_point is 000's entrance)
ZONE_TYPES = ("driveway", "entrance", "perimeter", "pool", "garage", "yard", "sidewalk", "other",
              "entry_point")
ZONE_SHAPES = ("rectangle", "polygon")
# normalised polygons (0-1 of the frame) from the design document, plus pool and garage
ZONE_POLYGONS: dict[str, list[list[float]]] = {
    "driveway": [[0.2, 0.9], [0.4, 0.5], [0.6, 0.5], [0.8, 0.9]],
    "entrance": [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]],
    "perimeter": [[0.0, 0.5], [0.1, 0.5], [0.1, 1.0], [0.0, 1.0]],
    "pool": [[0.55, 0.55], [0.95, 0.55], [0.95, 0.95], [0.55, 0.95]],
    "garage": [[0.05, 0.2], [0.45, 0.2], [0.45, 0.8], [0.05, 0.8]],
}
ZONE_COLORS = {"driveway": "#F59E0B", "entrance": "#3B82F6", "perimeter": "#EF4444",
               "pool": "#06B6D4", "garage": "#8B5CF6"}

OBJECT_CLASSES = ("person", "car", "truck", "dog", "cat", "bicycle", "package", "motorcycle")
FRAME_W, FRAME_H = 1920, 1080

DEMOGRAPHIC_AGES = ((0, 12), (13, 25), (26, 45), (46, 65), (66, 90))
DEMOGRAPHIC_AGE_P = (0.10, 0.25, 0.35, 0.20, 0.10)
GENDERS = ("male", "female", "unknown")
GENDER_P = (0.48, 0.48, 0.04)
POSE_CLASSES = ("standing", "walking", "running", "sitting", "crouching", "fallen")
ACTIONS = ("walking", "running", "loitering", "climbing", "carrying_object", "using_phone",
           "looking_around", "approaching_door")
THREAT_TYPES = ("weapon_visible", "aggressive_posture", "face_covered", "unusual_clothing",
                "prowling_behavior")
SCENE_CHANGE_TYPES = ("object_left_behind", "object_removed", "door_opened", "light_changed",
                      "camera_tampered")
# what scene_changes.change_type accepts: 000's types (generated) and 003's enum
SCENE_CHANGE_ALLOWED = (*SCENE_CHANGE_TYPES, "lighting", "obstruction", "movement")
COCO_KEYPOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                  "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
                  "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
                  "right_ankle")

ENTITY_TYPES = ("person", "vehicle", "animal", "package", "other")
TRUST_STATUSES = ("trusted", "untrusted", "unknown")

ALERT_STATUSES = ("pending", "delivered", "acknowledged", "dismissed")
FEEDBACK_TYPES = ("correct", "partially_correct", "incorrect")
FEEDBACK_P = (0.70, 0.20, 0.10)

JOB_TYPES = ("video_export", "report_generation", "batch_analysis", "model_inference",
             "cleanup", "notification_digest")
JOB_STATUSES = ("completed", "failed", "running", "pending")
JOB_STATUS_P = (0.70, 0.15, 0.10, 0.05)
ATTEMPT_STATUSES = ("running", "succeeded", "failed")
JOB_TRIGGERS = ("scheduler", "worker", "timeout", "manual_retry", "cancel")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
EXPORT_TYPES = ("video_clip", "event_report", "csv_export", "timelapse")
EXPORT_FORMATS = ("mp4", "pdf", "csv", "zip")

PROMPT_STATUSES = ("active", "draft", "archived")
PROMETHEUS_ALERT_NAMES = ("HighCPU", "GPUMemoryPressure", "DiskSpaceLow", "AIServiceUnhealthy",
                          "HighLatency", "ErrorRateSpike")
PROMETHEUS_STATUSES = ("firing", "resolved")
PROMETHEUS_SEVERITIES = ("info", "warning", "critical")
ANOMALY_TYPES = ("activity_spike", "activity_drop", "new_pattern", "schedule_violation")
AUDIT_STATUSES = ("success", "failure")
LOG_SOURCES = ("backend", "frontend")


def risk_level(score: int) -> str:
    for lo, hi, level in RISK_BANDS:
        if lo <= score <= hi:
            return level
    raise ValueError(f"risk score {score} outside 0-100")
