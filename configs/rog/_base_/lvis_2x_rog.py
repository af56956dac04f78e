# ROG's official optimisation on ../../_base_/schedules/lvis_2x.py: 8 GPUs x 4 images (set in the ROG method bases) at
# lr 0.02, gradient clipping at norm 5, warm-up from lr x 1e-4. The 2x ROG and ROG-Seesaw configs inherit it.
_base_ = '../../_base_/schedules/lvis_2x.py'
auto_scale_lr = dict(base_batch_size=32)  # 8 GPUs x 4 images at lr 0.02 (official)
optim_wrapper = dict(clip_grad=dict(max_norm=5, norm_type=2))
# the schedule's warm-up and steps, with the official warm-up start (mmdet's default: lr x 1e-3)
param_scheduler = [dict(_base_.param_scheduler[0], start_factor=1e-4), _base_.param_scheduler[1]]
