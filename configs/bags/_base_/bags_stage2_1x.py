# BAGS's classifier re-training stage on ../../_base_/schedules/lvis_1x.py (FishYuLi/BalancedGroupSoftmax
# configs/bags/gs_mask_rcnn_r50_fpn_1x_lvis.py, selectp=1): the baseline is loaded (load_from) and only
# roi_head.bbox_head.fc_cls trains (FreezeAllButHook); 12 epochs, SGD lr 0.01 for 8 GPUs x 2 images, momentum 0.9,
# weight decay 1e-4, gradient clipping at 35, 500-iteration linear warm-up from lr / 3, lr x 0.1 at epochs 8 and 11.
# The BAGS LVIS configs inherit it.
_base_ = '../../_base_/schedules/lvis_1x.py'
optim_wrapper = dict(optimizer=dict(lr=0.01), clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [dict(_base_.param_scheduler[0], start_factor=1 / 3), _base_.param_scheduler[1]]
custom_hooks = [dict(type='FreezeAllButHook', trainable=('roi_head.bbox_head.fc_cls',))]
# DDP is built before the hook freezes everything but fc_cls
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
