# NCL's ImageNet-LT / iNaturalist network (Li et al., CVPR 2022; Bazinga699/NCL config/ImageNet_LT/ImageNet_LT.yaml,
# config/iNat18/inat18_NCL.yaml, lib/net/network.py multi_Network, Cos_Classifier): 3 completely separate ResNet-50s
# (PyTorch default initialisation, as the official `res50`), each with global average pooling and its own cosine
# classifier with a learnable bias (scale 16; 32 for iNaturalist); NCLLoss with NBOD factor 0.6. The configs of this
# folder set hcm_n (300 ImageNet-LT, 2442 iNaturalist 2018) and add the data, class_stats and the schedule.
model = dict(
    type='NCLClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), style='pytorch', init_cfg=None),
    num_experts=3,
    num_classes=1000,
    in_channels=2048,
    classifier='cosine',
    cos_scale=16.0,
    loss=dict(type='NCLLoss', hcm_n=300, factor=0.6, factor_hcm=0.6))
