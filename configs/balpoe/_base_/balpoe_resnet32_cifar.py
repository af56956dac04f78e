# BalPoE's CIFAR network (Sanchez Aimar et al., CVPR 2023; emasa/BalPoE-CalibratedLT model/ldam_drw_resnets/
# expert_resnet_cifar.py, ResNet32Model with reduce_dimension false, use_norm, 3 experts): LDAM-DRW's ResNet-32 with a
# shared stem + stage 1 and 3 experts of stages 2-3 at full width (32 / 64 channels, not RIDE's reduced 24 / 48), each a
# cosine classifier x 30; BalPoELoss with tau (0, 1, 2) and input mixup alpha 0.4 over the whole run (the official
# CIFAR-100-LT configs/mixup/*/config_cifar100_ir100_bs-experts.json). The prediction is the mean of the raw expert
# logits (model.head.loss.test_tau / test_prior add a test-time adjustment). The configs of this folder add the data,
# class_stats and the schedule.
_base_ = '../../_base_/models/resnet32_cifar_lt.py'
model = dict(
    backbone=dict(num_experts=3, num_shared_stages=1),
    head=dict(type='MultiExpertClsHead', in_channels=64, num_experts=3, scale=30.0,
              loss=dict(_delete_=True, type='BalPoELoss', tau_list=[0.0, 1.0, 2.0])),
    train_cfg=dict(augments=dict(type='Mixup', alpha=0.4)))
