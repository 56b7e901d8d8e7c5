"""DTOs to the exact JSON shapes AI Horde clients declare (no extra fields: clients reject them)."""

from __future__ import annotations

from typing import Any

from horde_core.service import (
    Generation,
    ModelStatus,
    PoppedJob,
    Progress,
    RequestStatus,
    WorkerInfo,
)

IMAGE_SKIP_KEYS = frozenset({
    "blacklist", "bridge_version", "kudos", "models", "nsfw", "performance", "untrusted", "worker_id",
    "max_pixels", "unsafe_ip", "img2img", "painting", "post-processing", "lora", "controlnet", "step_count",
})


def progress(p: Progress) -> dict[str, Any]:
    return {"finished": p.finished, "processing": p.processing, "restarted": p.restarted,
            "waiting": p.waiting, "done": p.done, "faulted": p.faulted, "wait_time": p.wait_time,
            "queue_position": p.queue_position, "kudos": float(p.kudos), "is_possible": p.is_possible}


def image_generation(g: Generation) -> dict[str, Any]:
    out: dict[str, Any] = {"img": g.img, "seed": g.seed, "id": g.id, "censored": g.censored,
                           "model": g.model, "state": g.state, "worker_id": g.worker_id,
                           "worker_name": g.worker_name}
    if g.gen_metadata:
        out["gen_metadata"] = g.gen_metadata
    return out


def image_status(s: RequestStatus) -> dict[str, Any]:
    out = progress(s.progress)
    out["generations"] = [image_generation(g) for g in s.generations]
    out["shared"] = s.shared
    return out


def image_pop(job: PoppedJob) -> dict[str, Any]:
    skipped = {k: v for k, v in job.skipped.items() if k in IMAGE_SKIP_KEYS}
    if not job.ids:
        return {"id": None, "ids": [], "payload": {}, "skipped": skipped}
    out: dict[str, Any] = {"id": job.ids[0], "ids": job.ids, "payload": job.payload, "skipped": skipped,
                           "model": job.model, "ttl": job.ttl, "r2_upload": job.r2_uploads[0],
                           "r2_uploads": job.r2_uploads}
    if job.source_image is not None:
        out["source_image"] = job.source_image
        out["source_processing"] = job.source_processing
    if job.source_mask is not None:
        out["source_mask"] = job.source_mask
    return out


def worker(w: WorkerInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": w.kind, "name": w.name, "id": w.id, "online": w.online,
        "requests_fulfilled": w.requests_fulfilled, "kudos_rewards": float(w.kudos_generated + w.kudos_uptime),
        "kudos_details": {"generated": float(w.kudos_generated), "uptime": w.kudos_uptime},
        "performance": w.performance, "threads": w.threads, "uptime": w.uptime,
        "maintenance_mode": w.maintenance_mode, "info": w.info, "nsfw": w.nsfw, "owner": w.owner,
        "trusted": w.trusted, "flagged": w.flagged, "suspicious": 0, "uncompleted_jobs": w.uncompleted_jobs,
        "bridge_agent": w.bridge_agent,
    }
    if w.team_id:
        out["team"] = {"name": w.team_name, "id": w.team_id}
    if w.kind == "interrogation":
        out["forms"] = w.models
    else:
        out["models"] = w.models
    if w.kind == "image":
        out.update(max_pixels=w.max_pixels, megapixelsteps_generated=w.units_generated, img2img=w.img2img,
                   painting=w.painting, post_processing=w.post_processing, lora=w.lora)
    if w.kind == "text":
        out.update(max_length=w.max_length, max_context_length=w.max_context_length,
                   tokens_generated=w.units_generated)
    return out


def model(m: ModelStatus) -> dict[str, Any]:
    return {"name": m.name, "count": m.count, "performance": m.performance, "queued": m.queued,
            "jobs": m.jobs, "eta": m.eta, "type": m.kind}
