# Equalization Loss v2 (Tan et al., CVPR 2021): C+1 sigmoid logits re-weighted by accumulated gradient ratios (all-
# reduced across GPUs). Mask R-CNN R50-FPN, LVIS v1, uniform image sampling, multi-scale 640-800, 1x (12 epochs). The
# other depths / schedules / RFS variants in this folder inherit this file.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_lvis.py',
    '../_base_/datasets/lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
model = dict(roi_head=dict(
    bbox_head=dict(
        num_classes=1203,
        loss_cls=dict(_delete_=True, type='EqualizationLossV2', num_classes=1203, gamma=12.0, mu=0.8, alpha=4.0),
        # sigmoid classifier: bias initialised to the prior probability 0.001 (official)
        init_cfg=[dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls')),
                  dict(type='Normal', std=0.001, override=dict(name='fc_reg')),
                  dict(type='Xavier', distribution='uniform',
                       override=[dict(name='shared_fcs'), dict(name='cls_fcs'), dict(name='reg_fcs')])]),
    mask_head=dict(num_classes=1203)))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
train_cfg = dict(val_interval=12)  # LVIS evaluation once, at the end
