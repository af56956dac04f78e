# EFL's official optimisation (ModelTC/EOD configs/det/efl/efl_improved_baseline_r50_2x_rfs.yaml) on
# ../../_base_/schedules/lvis_2x.py: SGD lr 0.02 for 16 images (official 0.00125 per image on 16 GPUs x 1 image),
# momentum 0.9, weight decay 1e-4, 24 epochs with lr x 0.1 at epochs 16 and 22 (as mmdet's 2x), gradient clipping at
# norm 35, and a linear warm-up over the whole first epoch from lr x 0.001 (mmdet's: 500 iterations). The EFL LVIS
# configs inherit it.
_base_ = '../../_base_/schedules/lvis_2x.py'
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [dict(type='LinearLR', start_factor=0.001, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
                   _base_.param_scheduler[1]]
