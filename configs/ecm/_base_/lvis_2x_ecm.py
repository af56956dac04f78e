# ECM's official 2x optimisation on ../../_base_/schedules/lvis_2x.py (janghyuncho/ECM-Loss
# configs/effective_class_margin_loss/r50_ecm_2x.py, r101_ecm_2x.py): 8 GPUs x 2 images at lr 0.02, gradient clipping
# at norm 5, a 10,000-iteration linear warm-up from lr x 1e-4, and lr x 0.1 at epochs 20 and 22 (mmdet's 2x: 16 and
# 22). The 2x ECM configs inherit it.
_base_ = '../../_base_/schedules/lvis_2x.py'
optim_wrapper = dict(clip_grad=dict(max_norm=5, norm_type=2))
param_scheduler = [dict(_base_.param_scheduler[0], start_factor=1e-4, end=10000),
                   dict(_base_.param_scheduler[1], milestones=[20, 22])]
