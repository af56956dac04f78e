# EQL v1 on LVIS v1 without a schedule: ../../_base_/mask-rcnn_r50_fpn_lvis-v1.py with EqualizationLoss (lambda_
# 0.0011) and the sigmoid classifier init. The LVIS v1 configs of this folder and the LVIS v1 EQLv2 base inherit it.
_base_ = '../../_base_/mask-rcnn_r50_fpn_lvis-v1.py'
model = dict(roi_head=dict(bbox_head=dict(
    loss_cls=dict(_delete_=True, type='EqualizationLoss', num_classes={{_base_.num_classes}}, lambda_=0.0011,
                  class_stats={{_base_.class_stats}}),
    # sigmoid classifier: bias initialised to the prior probability 0.001 (official)
    init_cfg=[dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls')),
              dict(type='Normal', std=0.001, override=dict(name='fc_reg')),
              dict(type='Xavier', distribution='uniform',
                   override=[dict(name='shared_fcs'), dict(name='cls_fcs'), dict(name='reg_fcs')])])))
